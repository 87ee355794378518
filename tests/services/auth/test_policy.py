"""The authorisation rules of services.auth.policy, role by role (no server needed)."""

from __future__ import annotations

import pytest

from core.vocabulary import Action, Team
from services.auth.errors import OutsideScope, PermissionDenied
from services.auth.policy import (
    EVERY_OPERATION,
    Access,
    Operation,
    WorkTarget,
    authorise,
    estate_scope,
    narrow_scope,
    permits,
)
from services.auth.principal import Principal, Role

HERE, ELSEWHERE = "longdi", "songhua"
ME = 7
TRANSITIONS_OF_WORK = {Access.COMMENT, Action.ACKNOWLEDGE, Action.START,
                       Action.RESOLVE}


def staff(role: Role, team: Team | None = Team.REPAIR) -> Principal:
    return Principal(staff_id=ME, username=role.value, role=role, team=team,
                     estates=frozenset({HERE}))


MINE = WorkTarget(estate_id=HERE, assignee_id=ME, team=Team.SAFETY)
MY_TEAMS = WorkTarget(estate_id=HERE, assignee_id=None, team=Team.REPAIR)
OTHERS = WorkTarget(estate_id=HERE, assignee_id=99, team=Team.SAFETY)
FOREIGN = WorkTarget(estate_id=ELSEWHERE, assignee_id=ME, team=Team.REPAIR)


def allowed(principal: Principal, target: WorkTarget) -> set[Operation]:
    return {operation for operation in EVERY_OPERATION if permits(principal, operation, target)}


@pytest.mark.parametrize(("role", "target", "expected"), [
    (Role.ADMIN, FOREIGN, set(EVERY_OPERATION)),
    (Role.DISPATCHER, OTHERS, set(EVERY_OPERATION)),
    (Role.DISPATCHER, FOREIGN, set()),
    (Role.TECHNICIAN, MINE, {Access.READ, *TRANSITIONS_OF_WORK}),
    (Role.TECHNICIAN, MY_TEAMS, {Access.READ, *TRANSITIONS_OF_WORK}),
    (Role.TECHNICIAN, OTHERS, {Access.READ}),
    (Role.TECHNICIAN, FOREIGN, set()),
    (Role.VIEWER, MINE, {Access.READ}),
    (Role.VIEWER, FOREIGN, set()),
], ids=["admin-anywhere", "dispatcher-own-estate", "dispatcher-other-estate",
        "technician-assigned", "technician-team", "technician-others", "technician-elsewhere",
        "viewer", "viewer-elsewhere"])
def test_role_matrix(role: Role, target: WorkTarget, expected: set[Operation]) -> None:
    assert allowed(staff(role), target) == expected


def test_a_technician_without_team_acts_only_on_its_assignments() -> None:
    loner = staff(Role.TECHNICIAN, team=None)

    assert allowed(loner, MY_TEAMS) == {Access.READ}
    assert allowed(loner, MINE) == {Access.READ, *TRANSITIONS_OF_WORK}


def test_another_estate_is_not_found_rather_than_forbidden() -> None:
    with pytest.raises(OutsideScope):
        authorise(staff(Role.DISPATCHER), Access.READ, FOREIGN)
    with pytest.raises(OutsideScope):
        authorise(staff(Role.TECHNICIAN), Action.ACKNOWLEDGE, FOREIGN)


def test_creating_in_another_estate_is_forbidden_and_says_why() -> None:
    with pytest.raises(PermissionDenied, match="no access to estate 'songhua'"):
        authorise(staff(Role.DISPATCHER), Access.CREATE, WorkTarget(estate_id=ELSEWHERE))


def test_denials_name_the_rule() -> None:
    with pytest.raises(PermissionDenied, match="a viewer may not acknowledge"):
        authorise(staff(Role.VIEWER), Action.ACKNOWLEDGE, MINE)
    with pytest.raises(PermissionDenied, match="only a work order assigned to it or its team"):
        authorise(staff(Role.TECHNICIAN), Action.RESOLVE, OTHERS)


def test_scopes() -> None:
    assert estate_scope(staff(Role.ADMIN)) is None
    assert estate_scope(staff(Role.VIEWER)) == frozenset({HERE})
    assert narrow_scope(staff(Role.ADMIN), ELSEWHERE) == frozenset({ELSEWHERE})
    assert narrow_scope(staff(Role.VIEWER), ELSEWHERE) == frozenset()
    assert narrow_scope(staff(Role.VIEWER), None) == frozenset({HERE})
