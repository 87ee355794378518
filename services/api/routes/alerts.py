"""GET /api/v1/alerts/stream: live alerts of the caller's estates, as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.api.alert_stream import AlertHub
from services.api.deps import AlertHubDep, CurrentStaff
from services.auth.policy import estate_scope

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


async def _events(hub: AlertHub, estates: frozenset[str] | None) -> AsyncIterator[ServerSentEvent]:
    with hub.subscribe(estates) as client:
        # First a `ready` event: from here on the client misses no alert of its estates.
        ready = {"estates": None if estates is None else sorted(estates),
                 "broker_connected": hub.subscribed.is_set()}
        yield ServerSentEvent(event="ready", data=json.dumps(ready))
        while True:
            alert = await client.next()
            yield ServerSentEvent(event="alert", data=alert.as_json())


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "`ready`, then one `alert` event per alert; comments as "
                                    "keep-alives"}},
)
async def stream_alerts(principal: CurrentStaff, hub: AlertHubDep) -> EventSourceResponse:
    return EventSourceResponse(_events(hub, estate_scope(principal)), ping=hub.keepalive_s)
