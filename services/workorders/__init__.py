"""Work orders: anomalies and reports become jobs with 5341 deadlines, escalation and alerts.

Import what you use from its module: `service` (create, assign, comment, transition),
`intake` and `sink` (anomalies from the gateway), `deadlines`, `escalation`, `queries`
(lists, ledger, on-time figures), `notifier` (apprise and MQTT), `recipients`, `tables`.
The package itself re-exports only the contract callers hold on to: the models passed in
and out, and the errors.
"""

from services.workorders.errors import (
    AlreadyOpen,
    IllegalTransition,
    InvalidPolicy,
    InvalidReference,
    WorkOrderError,
    WorkOrderNotFound,
)
from services.workorders.schemas import (
    SENSOR,
    SYSTEM,
    Actor,
    EventKind,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderPublic,
)

__all__ = [
    "SENSOR",
    "SYSTEM",
    "Actor",
    "AlreadyOpen",
    "EventKind",
    "IllegalTransition",
    "InvalidPolicy",
    "InvalidReference",
    "WorkOrderCreate",
    "WorkOrderDetail",
    "WorkOrderError",
    "WorkOrderNotFound",
    "WorkOrderPublic",
]
