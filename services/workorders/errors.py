"""Errors of the work-order service, each carrying its fields (the API maps them to HTTP)."""

from __future__ import annotations

from datetime import datetime


class WorkOrderError(Exception):
    """Root of the work-order service's errors."""


class WorkOrderNotFound(WorkOrderError):
    """→ 404."""

    def __init__(self, work_order_id: int) -> None:
        super().__init__(f"work order {work_order_id} does not exist")
        self.work_order_id = work_order_id


class IllegalTransition(WorkOrderError):
    """The action is not allowed from the work order's current status (→ 409)."""

    def __init__(self, current: str, action: str) -> None:
        super().__init__(f"cannot {action} a work order that is {current}")
        self.current = current
        self.action = action


class ConditionActive(WorkOrderError):
    """Closing a work order whose condition the sensor still reports, without confirming
    (→ 409 `condition_active`; send the close again with `confirm: true`)."""

    def __init__(self, work_order_id: int, since: datetime | None) -> None:
        active = "" if since is None else f" since {since.isoformat()}"
        super().__init__(
            f"work order {work_order_id}: its condition is still active{active}; closing it "
            "needs confirm=true, and the next reading that meets it opens a new work order")
        self.work_order_id = work_order_id
        self.since = since


class AlreadyOpen(WorkOrderError):
    """Reopening would make a second open work order for the same device and rule (→ 409)."""

    def __init__(self, work_order_id: int, device_pk: int | None, rule: str | None) -> None:
        super().__init__(
            f"work order {work_order_id} cannot reopen: device {device_pk} already has an open "
            f"work order for rule {rule!r}"
        )
        self.work_order_id = work_order_id
        self.device_pk = device_pk
        self.rule = rule


class InvalidReference(WorkOrderError):
    """A referenced building, unit, device or staff member is missing or elsewhere (→ 422)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field} {value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason


class InvalidPolicy(WorkOrderError):
    """An estate's deadline policy has an unknown key or a bad number (→ 422)."""

    def __init__(self, estate_id: str, key: str, reason: str) -> None:
        super().__init__(f"deadline policy of estate {estate_id!r}, {key!r}: {reason}")
        self.estate_id = estate_id
        self.key = key
        self.reason = reason
