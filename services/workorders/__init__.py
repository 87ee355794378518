"""Work orders: anomalies and reports become jobs with 5341 deadlines, escalation and alerts.

The Notifier (apprise and MQTT) lives in services.workorders.notifier and is imported from
there, so that importing the vocabulary does not load apprise.
"""

from core.clock import Clock, ManualClock, SystemClock
from core.vocabulary import Action
from services.auth.principal import Role
from services.workorders.alert import Alert, AlertKind, AlertSink
from services.workorders.deadlines import (
    Deadline,
    DeadlinePolicy,
    Deadlines,
    deadlines_for,
    ledger_colour,
    policy_for,
    set_estate_policy,
)
from services.workorders.errors import (
    AlreadyOpen,
    IllegalTransition,
    InvalidPolicy,
    InvalidReference,
    WorkOrderError,
    WorkOrderNotFound,
)
from services.workorders.escalation import Escalation, escalate_due, run_escalation
from services.workorders.intake import IntakeResult, intake
from services.workorders.queries import ledger, list_work_orders, on_time_stats
from services.workorders.schemas import (
    SENSOR,
    SYSTEM,
    Actor,
    EventKind,
    LedgerEntry,
    OnTimeStats,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderEventPublic,
    WorkOrderFilters,
    WorkOrderPublic,
    WorkOrdersPublic,
)
from services.workorders.service import (
    allowed_actions,
    assign,
    comment,
    create,
    get,
    transition,
)
from services.workorders.sink import intake_sink

__all__ = [
    "SENSOR",
    "SYSTEM",
    "Action",
    "Actor",
    "Alert",
    "AlertKind",
    "AlertSink",
    "AlreadyOpen",
    "Clock",
    "Deadline",
    "DeadlinePolicy",
    "Deadlines",
    "Escalation",
    "EventKind",
    "IllegalTransition",
    "IntakeResult",
    "InvalidPolicy",
    "InvalidReference",
    "LedgerEntry",
    "ManualClock",
    "OnTimeStats",
    "Role",
    "SystemClock",
    "WorkOrderCreate",
    "WorkOrderDetail",
    "WorkOrderError",
    "WorkOrderEventPublic",
    "WorkOrderFilters",
    "WorkOrderNotFound",
    "WorkOrderPublic",
    "WorkOrdersPublic",
    "allowed_actions",
    "assign",
    "comment",
    "create",
    "deadlines_for",
    "escalate_due",
    "get",
    "intake",
    "intake_sink",
    "ledger",
    "ledger_colour",
    "list_work_orders",
    "on_time_stats",
    "policy_for",
    "run_escalation",
    "set_estate_policy",
    "transition",
]
