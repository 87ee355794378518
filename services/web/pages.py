"""Routes of the staff page, its assets and the locally served Swagger UI and ReDoc."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).parent / "static"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# Served by name from this table only, so no request path can reach another file.
ASSETS = {
    "app.css": CSS,
    "js/i18n.js": JS, "js/api.js": JS, "js/charts.js": JS, "js/board.js": JS,
    "js/detail.js": JS, "js/devices.js": JS, "js/app.js": JS,
    "docs/swagger-init.js": JS, "docs/redoc-init.js": JS,
    "vendor/alpine-csp.min.js": JS,
    "vendor/chart.umd.min.js": JS,
    "vendor/chartjs-adapter-date-fns.bundle.min.js": JS,
    "vendor/swagger-ui/swagger-ui-bundle.js": JS,
    "vendor/swagger-ui/swagger-ui.css": CSS,
    "vendor/swagger-ui/favicon-32x32.png": "image/png",
    "vendor/redoc/redoc.standalone.js": JS,
}
_STRICT = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
           "frame-ancestors 'none'")
# Nothing is loaded from elsewhere, and no inline script runs even if text slipped through.
SECURITY_HEADERS = {
    "Content-Security-Policy": _STRICT,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
# Swagger UI and ReDoc set inline styles and ReDoc runs its search in a blob worker; still
# no inline script and nothing from another origin.
DOCS_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": _STRICT + "; style-src 'self' 'unsafe-inline'; "
                                         "worker-src 'self' blob:",
}

router = APIRouter(include_in_schema=False)


def _html(name: str, headers: dict[str, str]) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html; charset=utf-8",
                        headers=headers)


@router.get("/")
async def staff_page() -> FileResponse:
    return _html("index.html", SECURITY_HEADERS)


@router.get("/docs")
async def swagger_ui() -> FileResponse:
    return _html("docs/swagger.html", DOCS_HEADERS)


@router.get("/redoc")
async def redoc() -> FileResponse:
    return _html("docs/redoc.html", DOCS_HEADERS)


@router.get("/static/{name:path}")
async def static_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404)
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers=SECURITY_HEADERS)
