"""Tell people: apprise to staff, alert routes and residents, and JSON on the MQTT alert topic.

A resident's message carries a fresh progress link ({public_url}/p/{token}); only the
token's hash is stored (services/workorders/progress_links.py). A resolved work order is
told to residents only, and not published on MQTT (the alert topic is the staff's).

Each channel fails alone: a dead webhook does not stop the MQTT message, a broker outage
does not stop the webhook, and nothing raises back into intake or escalation (logged).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Protocol

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.workorders.alert import Alert, AlertKind
from services.workorders.messages import resident_body, resident_title, staff_body, staff_title
from services.workorders.progress_links import issue_notice, progress_url
from services.workorders.recipients import Route, route_alert
from services.workorders.schemas import SYSTEM, EventKind
from services.workorders.timeline import record

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one notify did: how many apprise targets, and whether each channel got it."""

    staff_targets: int
    resident_targets: int
    staff_sent: bool
    residents_sent: bool
    published: bool


def send_with_apprise(urls: list[str], title: str, body: str) -> bool:
    """Blocking: send one message to every URL; True if all targets took it. apprise is
    imported here, on first use: a gateway that never notifies needn't carry its modules."""
    import apprise

    sender = apprise.Apprise()
    for url in urls:
        if not sender.add(url):
            log.warning("not an apprise URL, skipped: %s", url.split("://", 1)[0] + "://...")
    if len(sender) == 0:
        return False
    return bool(sender.notify(title=title, body=body))


class Publisher(Protocol):
    """What alerts are published through: an aiomqtt.Client, or connectors.mqtt.Publisher."""

    async def publish(self, topic: str, payload: str, qos: int) -> None: ...


class Notifier:
    """Sends alerts. `mqtt` is a connected, long-lived publisher (None: no MQTT);
    `public_url` starts residents' progress links (None: their messages carry no link)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 mqtt: Publisher | aiomqtt.Client | None, qos: int = 1,
                 timeout_s: float = DEFAULT_TIMEOUT_S, public_url: str | None = None) -> None:
        self._sessions = sessions
        self._mqtt = mqtt
        self._public_url = public_url
        self._qos = qos
        self._timeout_s = timeout_s

    async def notify(self, alert: Alert) -> Delivery:
        route = await self._route(alert)
        staff_sent = await self._apprise(
            route.staff_urls, staff_title(alert), staff_body(alert, route.place, route.timezone))
        residents_sent = await self._tell_residents(alert, route)
        published = (alert.kind is not AlertKind.RESOLVED
                     and await self._publish(alert, route))
        log.info("alert %s of work order %s: %d staff targets (%s), %d residents (%s), mqtt %s",
                 alert.kind, alert.work_order_id, len(route.staff_urls), staff_sent,
                 len(route.resident_urls), residents_sent, published)
        delivery = Delivery(len(route.staff_urls), len(route.resident_urls), staff_sent,
                            residents_sent, published)
        if alert.kind is not AlertKind.RESOLVED or route.resident_urls:
            await self._record(alert, route, delivery)
        return delivery

    async def _tell_residents(self, alert: Alert, route: Route) -> bool:
        if not route.resident_urls:
            return False
        link = await self._progress_link(alert)
        return await self._apprise(route.resident_urls, resident_title(alert),
                                   resident_body(alert, route.place, link))

    async def _progress_link(self, alert: Alert) -> str | None:
        """A new progress link for this message; the notice row is kept even without a
        public URL, as it also says the residents were told (for the resolved notice)."""
        try:
            async with self._sessions.begin() as session:
                token = await issue_notice(session, alert.work_order_id,
                                           alert=alert.kind.value, at=alert.at)
        except Exception:  # the notice still goes, without its link
            log.exception("could not issue a progress link for work order %s",
                          alert.work_order_id)
            return None
        if not self._public_url:
            log.warning("ESTATEOPS_API__PUBLIC_URL is not set: the residents' notice of work "
                        "order %s goes without its progress link", alert.work_order_id)
            return None
        return progress_url(self._public_url, token)

    async def _record(self, alert: Alert, route: Route, delivery: Delivery) -> None:
        """The timeline says who was told, and whether it went out: "nobody" is worth
        seeing too. Names only, never the URLs (a bot's key is in its URL)."""
        data = {"alert": alert.kind.value, "staff": route.staff_names,
                "team_routes": route.team_routes, "residents": route.resident_names,
                "staff_sent": delivery.staff_sent, "residents_sent": delivery.residents_sent,
                "published": delivery.published}
        try:
            async with self._sessions.begin() as session:
                await record(session, alert.work_order_id, EventKind.ALERTED, actor=SYSTEM,
                             at=alert.at, data=data)
        except Exception:  # the alert went out; a missing line must not undo that
            log.exception("could not record alert %s on work order %s", alert.kind,
                          alert.work_order_id)

    async def _route(self, alert: Alert) -> Route:
        try:
            async with self._sessions() as session:
                return await route_alert(session, alert)
        except Exception:  # still publish on MQTT without the database
            log.exception("could not look up who to alert for work order %s",
                          alert.work_order_id)
            return Route()

    async def _apprise(self, urls: list[str], title: str, body: str) -> bool:
        if not urls:
            return False
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(send_with_apprise, urls, title, body), self._timeout_s)
        except Exception:  # one channel failing must not stop the others
            log.exception("apprise could not send %r", title)
            return False

    async def _publish(self, alert: Alert, route: Route) -> bool:
        if self._mqtt is None:
            return False
        payload = json.dumps({**alert.as_json(), "place": route.place}, ensure_ascii=False)
        try:
            await asyncio.wait_for(
                self._mqtt.publish(alert.topic, payload, qos=self._qos), self._timeout_s)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            log.warning("could not publish alert on %s: %s", alert.topic, exc)
            return False
        return True
