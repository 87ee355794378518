"""The words of an alert, for staff (bilingual, with the deadline) and for residents (Chinese
first, no internal details)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.workorders.alert import Alert, AlertKind

DEADLINE_WORDS = {"ack": "接单 acknowledge", "resolve": "完成 resolve", "plan": "方案 plan"}


def local_time(moment: datetime, timezone: str) -> str:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def staff_title(alert: Alert) -> str:
    what = {
        AlertKind.CREATED: "新工单 new",
        AlertKind.ESCALATED: f"超时升级 escalated L{alert.level}",
        AlertKind.ASSIGNED: "派单 assigned",
        AlertKind.RESOLVED: "已完成 resolved",
    }[alert.kind]
    return f"[{alert.priority}] {what}: {alert.title_zh or alert.title_en}"


def staff_body(alert: Alert, place: str, timezone: str) -> str:
    lines = [
        f"工单 work order #{alert.work_order_id} ({alert.estate_id})",
        f"{alert.title_zh} / {alert.title_en}".strip(" /"),
        f"地点 place: {place or '-'}",
        f"班组 team: {alert.team}  状态 status: {alert.status}",
    ]
    if alert.kind is AlertKind.ESCALATED and alert.deadline and alert.due_at:
        words = DEADLINE_WORDS.get(alert.deadline, alert.deadline)
        lines.append(f"已超期 missed: {words} by {local_time(alert.due_at, timezone)}")
    return "\n".join(lines)


def resident_title(alert: Alert) -> str:
    """What the rule detected, in the rule's own words (its profile's titles)."""
    what = f"{alert.title_zh} {alert.title_en}".strip() or "物业提醒 Notice from your property"
    return f"已处理完毕 Resolved: {what}" if alert.kind is AlertKind.RESOLVED else what


def _link_lines(link: str | None) -> str:
    if link is None:
        return ""
    return f"\n查看进度和照片 Progress and photos: {link}"


def resident_body(alert: Alert, place: str, link: str | None = None) -> str:
    """The resident's message; `link` is their progress link (None: none could be made)."""
    what_zh = alert.title_zh or alert.title_en
    what_en = alert.title_en or alert.title_zh
    if alert.kind is AlertKind.RESOLVED:
        return (
            f"您的房屋（{place}）：{what_zh}，工单 #{alert.work_order_id} 已处理完毕。"
            f"处理过程的照片可在进度页查看。\n"
            f"Your home ({place}): {what_en}. Work order #{alert.work_order_id} is resolved; "
            f"the progress page shows the photos of the work." + _link_lines(link))
    return (
        f"您的房屋（{place}）：{what_zh}。物业已生成工单 #{alert.work_order_id}，"
        f"工作人员正在处理。如您不在家，请联系物业安排入户。\n"
        f"Your home ({place}): {what_en}. Work order #{alert.work_order_id} is open and "
        f"the property's team is on it." + _link_lines(link)
    )
