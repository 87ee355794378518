"""The residents' pages (no login, phone first, zh-CN): the report page a QR code opens and the
progress page of a report. Static files under the staff page's CSP; the data comes from the
public residents' API (services/api/routes/residents.py), which checks every link."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from services.web.pages import CSS, JS, SECURITY_HEADERS, STATIC_DIR

RESIDENT_DIR = STATIC_DIR / "resident"
# Served by name from this table only, so no request path can reach another file.
ASSETS = {"resident.css": CSS, "common.js": JS, "report.js": JS, "progress.js": JS}
# The pages name nothing private in their URL's path to other sites.
PAGE_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(RESIDENT_DIR / name, media_type="text/html; charset=utf-8",
                        headers=PAGE_HEADERS)


@router.get("/r/{estate_id}/{code}")
async def report_page(estate_id: str, code: str) -> FileResponse:
    return _page("report.html")


@router.get("/p/{token}")
async def progress_page(token: str) -> FileResponse:
    return _page("progress.html")


@router.get("/resident-static/{name}")
async def resident_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404)
    return FileResponse(RESIDENT_DIR / name, media_type=media_type, headers=PAGE_HEADERS)
