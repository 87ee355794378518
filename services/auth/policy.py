"""Every authorisation rule of the API, in one place.

Roles: an admin does everything in every estate; a dispatcher creates, assigns, moves and
comments on work orders in its estates; a technician sees its estates' work orders and
acknowledges, starts, resolves and comments on those assigned to it or to its team; a viewer
only reads. Nobody sees anything of an estate outside its scope: such a resource is answered
as not found, so its existence is not disclosed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.vocabulary import Action, Team
from services.auth.errors import OutsideScope, PermissionDenied
from services.auth.principal import Principal, Role


class Access(StrEnum):
    """What a caller may do to a work order besides moving it along (core.vocabulary.Action)."""

    READ = "read"
    CREATE = "create"
    ASSIGN = "assign"
    COMMENT = "comment"


Operation = Access | Action
EVERY_OPERATION: frozenset[Operation] = frozenset({*Access, *Action})


ROLE_OPERATIONS: Mapping[Role, frozenset[Operation]] = {
    Role.ADMIN: EVERY_OPERATION,
    Role.DISPATCHER: EVERY_OPERATION,
    Role.TECHNICIAN: frozenset({Access.READ, Access.COMMENT, Action.ACKNOWLEDGE,
                                Action.START, Action.RESOLVE}),
    Role.VIEWER: frozenset({Access.READ}),
}
# Roles that may act (beyond reading) only on work assigned to them or to their team.
OWN_WORK_ONLY = frozenset({Role.TECHNICIAN})


@dataclass(frozen=True, slots=True)
class WorkTarget:
    """What the rules need to know about a work order."""

    estate_id: str
    assignee_id: int | None = None
    team: Team | None = None


def estate_scope(principal: Principal) -> frozenset[str] | None:
    """The estates the caller may see; None means all of them."""
    return None if principal.role is Role.ADMIN else principal.estates


def can_see(principal: Principal, estate_id: str | None) -> bool:
    scope = estate_scope(principal)
    return scope is None or (estate_id is not None and estate_id in scope)


def narrow_scope(principal: Principal, estate_id: str | None) -> frozenset[str] | None:
    """The caller's scope, narrowed to `estate_id` if given (empty if that is out of scope)."""
    if estate_id is None:
        return estate_scope(principal)
    return frozenset({estate_id}) if can_see(principal, estate_id) else frozenset()


def require_visible(principal: Principal, estate_id: str | None, what: str) -> None:
    if not can_see(principal, estate_id):
        raise OutsideScope(f"{what} not found")


def _is_own_work(principal: Principal, target: WorkTarget) -> bool:
    if target.assignee_id is not None and target.assignee_id == principal.staff_id:
        return True
    return principal.team is not None and target.team == principal.team


def permits(principal: Principal, operation: Operation, target: WorkTarget) -> bool:
    if not can_see(principal, target.estate_id):
        return False
    if operation not in ROLE_OPERATIONS[principal.role]:
        return False
    if operation is Access.READ or principal.role not in OWN_WORK_ONLY:
        return True
    return _is_own_work(principal, target)


def authorise(principal: Principal, operation: Operation, target: WorkTarget, *,
              what: str = "work order") -> None:
    """Refuse unless allowed: an unseen estate is 'not found', a forbidden act 'denied'."""
    if operation is not Access.CREATE:
        require_visible(principal, target.estate_id, what)
    if permits(principal, operation, target):
        return
    if not can_see(principal, target.estate_id):
        raise PermissionDenied(f"{principal.username} has no access to estate {target.estate_id!r}")
    if operation not in ROLE_OPERATIONS[principal.role]:
        raise PermissionDenied(f"a {principal.role.value} may not {operation.value} a {what}")
    raise PermissionDenied(
        f"a {principal.role.value} may {operation.value} only a {what} assigned to it or its team"
    )


def require_admin(principal: Principal) -> None:
    """Administration (staff, rota, alert routes, contacts, policies, rule overrides) is for
    admins only."""
    if principal.role is not Role.ADMIN:
        raise PermissionDenied(f"a {principal.role.value} may not administer EstateOps: "
                               "admins only")
