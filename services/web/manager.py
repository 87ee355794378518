"""The manager page (/manager) and the printable monthly report per estate
(/manager/report): static pages whose scripts call /api/v1/reports with the staff page's
bearer token. The pages and assets hold no data and are public; the API scopes every figure."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from services.web.pages import SECURITY_HEADERS

STATIC_DIR = Path(__file__).parent / "static"
PAGES_DIR = STATIC_DIR / "manager"
JS = "text/javascript; charset=utf-8"
# Served by name from this table only, so no request path can reach another file.
ASSETS = {
    "common.js": (PAGES_DIR / "common.js", JS),
    "manager.js": (PAGES_DIR / "manager.js", JS),
    "report.js": (PAGES_DIR / "report.js", JS),
    "manager.css": (PAGES_DIR / "manager.css", "text/css; charset=utf-8"),
    "alpine-csp.min.js": (STATIC_DIR / "vendor" / "alpine-csp.min.js", JS),
    "chart.umd.min.js": (STATIC_DIR / "vendor" / "chart.umd.min.js", JS),
}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(PAGES_DIR / name, media_type="text/html; charset=utf-8",
                        headers=SECURITY_HEADERS)


@router.get("/manager")
async def manager_page() -> FileResponse:
    return _page("manager.html")


@router.get("/manager/report")
async def monthly_report_page() -> FileResponse:
    return _page("report.html")


@router.get("/manager/static/{name}")
async def manager_asset(name: str) -> FileResponse:
    found = ASSETS.get(name)
    if found is None:
        raise HTTPException(status_code=404)
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers=SECURITY_HEADERS)
