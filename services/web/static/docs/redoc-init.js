// ReDoc on the API's own schema, with the system font (no web fonts from the internet).
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  Redoc.init("/openapi.json", {
    typography: { fontFamily: "system-ui, sans-serif", headings: { fontFamily: "system-ui, sans-serif" } },
  }, document.getElementById("redoc"));
});
