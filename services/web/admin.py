"""The administration page for admins (/admin): one static page whose script calls
/api/v1/admin with the staff page's bearer token. Like the staff page, the page and its
assets hold no data and are public; the API decides who may administer."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from services.web.pages import SECURITY_HEADERS

STATIC_DIR = Path(__file__).parent / "static"
# Served by name from this table only, so no request path can reach another file.
ASSETS = {
    "admin.js": (STATIC_DIR / "admin" / "admin.js", "text/javascript; charset=utf-8"),
    "admin.css": (STATIC_DIR / "admin" / "admin.css", "text/css; charset=utf-8"),
    "alpine-csp.min.js": (STATIC_DIR / "vendor" / "alpine-csp.min.js",
                          "text/javascript; charset=utf-8"),
}

router = APIRouter(include_in_schema=False)


@router.get("/admin")
async def admin_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "admin" / "admin.html",
                        media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/admin/static/{name}")
async def admin_asset(name: str) -> FileResponse:
    found = ASSETS.get(name)
    if found is None:
        raise HTTPException(status_code=404)
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers=SECURITY_HEADERS)
