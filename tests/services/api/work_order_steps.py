"""Work orders made and moved through the API, for the work-order tests."""

from __future__ import annotations

from typing import Any

import httpx

from services.workorders.model import Status

URL = "/api/v1/work-orders"
REPORT: dict[str, Any] = {
    "estate_id": "longdi", "team": "repair", "priority": "P2", "category": "simple",
    "source": "resident", "title_zh": "41号楼2单元门口漏水", "title_en": "Water under the door",
    "description": "业主在海南，邻居报告",
}
# The actions that bring a new work order to each status.
PATH_TO: dict[Status, list[str]] = {
    Status.OPEN: [],
    Status.ACKNOWLEDGED: ["acknowledge"],
    Status.IN_PROGRESS: ["acknowledge", "start"],
    Status.RESOLVED: ["acknowledge", "start", "resolve"],
    Status.CLOSED: ["acknowledge", "start", "resolve", "close"],
    Status.CANCELLED: ["cancel"],
}


async def create(client: httpx.AsyncClient, headers: dict[str, str] | None = None,
                 **overrides: Any) -> dict[str, Any]:
    response = await client.post(URL, json={**REPORT, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def act(client: httpx.AsyncClient, work_order_id: int, action: str,
              headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return await client.post(f"{URL}/{work_order_id}/{action}", json=body or None,
                             headers=headers)


async def bring_to(client: httpx.AsyncClient, work_order_id: int, status: Status) -> None:
    """Move a work order to `status` as the client's own (admin) user."""
    for action in PATH_TO[status]:
        response = await act(client, work_order_id, action)
        assert response.status_code == 200, response.text


async def created_in(client: httpx.AsyncClient, status: Status,
                     **overrides: Any) -> dict[str, Any]:
    work_order = await create(client, **overrides)
    await bring_to(client, work_order["id"], status)
    return work_order
