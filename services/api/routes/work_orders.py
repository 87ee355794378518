"""Work orders: list, detail with timeline, create, move along the state machine, assign,
comment; the three-colour ledger and on-time statistics. Who may do what: services.auth.policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Action, Priority
from services.api.deps import CurrentStaff, EstateScope, NotifierDep, NowDep, SessionDep
from services.api.models import ErrorPublic, IsoDatetime, RowId
from services.auth.policy import (
    Access,
    Operation,
    WorkTarget,
    authorise,
    narrow_scope,
    permits,
)
from services.auth.principal import Principal
from services.workorders import labels, queries, service
from services.workorders.alert import Alert, AlertKind
from services.workorders.schemas import (
    Actor,
    AssignRequest,
    CommentCreate,
    LedgerPublic,
    OnTimeStatsList,
    StaffNameList,
    TransitionRequest,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderEventPublic,
    WorkOrderFilters,
    WorkOrderPublic,
    WorkOrdersPublic,
)
from services.workorders.tables import WorkOrder

router = APIRouter(prefix="/api/v1", tags=["work orders"])

Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": ErrorPublic,
                              "description": "no such work order in the caller's estates"}}
FORBIDDEN: Responses = {403: {"model": ErrorPublic,
                              "description": "the caller's role may not do this"}}
CONFLICT: Responses = {409: {"model": ErrorPublic,
                             "description": "not allowed in the work order's current status"}}


# A work order's id in the path: an id no database can hold is refused with 422.
WorkOrderId = RowId

ALERTED_PRIORITIES = frozenset({Priority.P1, Priority.P2})
DEFAULT_STATS_WINDOW = timedelta(days=30)


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.staff_id, name=principal.name, role=principal.role)


def target_of(work_order: WorkOrder) -> WorkTarget:
    return WorkTarget(estate_id=work_order.estate_id, assignee_id=work_order.assignee_id,
                      team=work_order.team)


async def authorised(session: AsyncSession, principal: Principal, work_order_id: WorkOrderId,
                     operation: Operation) -> WorkOrder:
    """The work order, once the policy allows `operation` on it (else 404 or 403)."""
    work_order = await service.get(session, work_order_id)
    authorise(principal, operation, target_of(work_order))
    return work_order


# The order of the buttons on the page.
ACTION_ORDER: tuple[Operation, ...] = (
    Action.ACKNOWLEDGE, Access.ASSIGN, Action.START, Access.COMMENT, Action.RESOLVE,
    Action.CLOSE, Action.REOPEN, Action.CANCEL,
)


def allowed_actions(principal: Principal, work_order: WorkOrder) -> list[str]:
    """What the caller may do to the work order now: its status allows it and so does policy."""
    possible: set[Operation] = {Access.COMMENT, *service.allowed_actions(work_order.status)}
    if work_order.status in service.ACTIVE:
        possible.add(Access.ASSIGN)
    target = target_of(work_order)
    return [operation.value for operation in ACTION_ORDER
            if operation in possible and permits(principal, operation, target)]


async def detail(session: AsyncSession, work_order_id: int,
                 principal: Principal) -> WorkOrderDetail:
    work_order = await service.get(session, work_order_id)
    named = (await labels.labels(session, [work_order]))[work_order.id]
    return WorkOrderDetail.model_validate(work_order).model_copy(update={
        **named, "allowed_actions": allowed_actions(principal, work_order)})


def tell(background: BackgroundTasks, notifier: NotifierDep, work_order: WorkOrder,
         kind: AlertKind, now: datetime) -> None:
    """Alert people after the response: webhooks may take seconds."""
    if notifier is not None:
        background.add_task(notifier.notify, Alert.of(work_order, kind, at=now))


@router.get("/work-orders", response_model=WorkOrdersPublic)
async def read_work_orders(filters: Annotated[WorkOrderFilters, Query()], session: SessionDep,
                           scope: EstateScope, now: NowDep) -> WorkOrdersPublic:
    """Newest first; `overdue` compares deadlines with now; `count` ignores paging."""
    rows, count = await queries.list_work_orders(session, filters, estates=scope, now=now)
    named = await labels.labels(session, rows)
    return WorkOrdersPublic(
        data=[WorkOrderPublic.model_validate(row).model_copy(update=named[row.id])
              for row in rows], count=count)


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderDetail, responses=NOT_FOUND)
async def read_work_order(work_order_id: WorkOrderId, session: SessionDep,
                          principal: CurrentStaff) -> WorkOrderDetail:
    await authorised(session, principal, work_order_id, Access.READ)
    return await detail(session, work_order_id, principal)


@router.get("/work-orders/{work_order_id}/assign/candidates", response_model=StaffNameList,
            responses={**NOT_FOUND, **FORBIDDEN})
async def read_assignees(work_order_id: WorkOrderId, session: SessionDep,
                         principal: CurrentStaff) -> StaffNameList:
    """Who the caller may give this work order to: names and teams only."""
    work_order = await authorised(session, principal, work_order_id, Access.ASSIGN)
    staff = await labels.assignable_staff(session, work_order.estate_id)
    return StaffNameList(data=staff, count=len(staff))


@router.post("/work-orders", status_code=201, response_model=WorkOrderDetail,
             responses={**FORBIDDEN, 422: {"model": ErrorPublic,
                                           "description": "unknown estate, place or device"}})
async def create_work_order(data: WorkOrderCreate, session: SessionDep,
                            principal: CurrentStaff, now: NowDep, notifier: NotifierDep,
                            background: BackgroundTasks) -> WorkOrderDetail:
    """A work order reported by staff, or by a resident through staff (`source: resident`)."""
    authorise(principal, Access.CREATE, WorkTarget(estate_id=data.estate_id))
    work_order = await service.create(session, data, actor=actor_of(principal), now=now)
    await session.commit()
    if work_order.priority in ALERTED_PRIORITIES:
        tell(background, notifier, work_order, AlertKind.CREATED, now)
    return await detail(session, work_order.id, principal)


@router.post("/work-orders/{work_order_id}/assign", response_model=WorkOrderDetail,
             responses={**NOT_FOUND, **FORBIDDEN, **CONFLICT})
async def assign_work_order(work_order_id: WorkOrderId, request: AssignRequest, session: SessionDep,
                            principal: CurrentStaff, now: NowDep, notifier: NotifierDep,
                            background: BackgroundTasks) -> WorkOrderDetail:
    await authorised(session, principal, work_order_id, Access.ASSIGN)
    work_order = await service.assign(session, work_order_id, request.assignee_id,
                                      actor=actor_of(principal), now=now, team=request.team)
    await session.commit()
    if request.assignee_id is not None:
        tell(background, notifier, work_order, AlertKind.ASSIGNED, now)
    return await detail(session, work_order_id, principal)


@router.post("/work-orders/{work_order_id}/comments", status_code=201,
             response_model=WorkOrderEventPublic, responses={**NOT_FOUND, **FORBIDDEN})
async def comment_on_work_order(work_order_id: WorkOrderId, request: CommentCreate,
                                session: SessionDep, principal: CurrentStaff,
                                now: NowDep) -> WorkOrderEventPublic:
    await authorised(session, principal, work_order_id, Access.COMMENT)
    event = await service.comment(session, work_order_id, request.text,
                                  actor=actor_of(principal), now=now)
    await session.commit()
    return WorkOrderEventPublic.model_validate(event)


# After the fixed paths above: `{action}` would otherwise also match "assign" and "comments".
@router.post("/work-orders/{work_order_id}/{action}", response_model=WorkOrderDetail,
             responses={**NOT_FOUND, **FORBIDDEN, **CONFLICT})
async def act_on_work_order(work_order_id: WorkOrderId, action: Action, session: SessionDep,
                            principal: CurrentStaff, now: NowDep, notifier: NotifierDep,
                            background: BackgroundTasks,
                            request: TransitionRequest | None = None) -> WorkOrderDetail:
    """acknowledge, start, resolve, close, cancel or reopen; 409 if the status forbids it.
    A resolved work order whose residents were told it began is told to them too."""
    await authorised(session, principal, work_order_id, action)
    request = request or TransitionRequest()
    work_order = await service.transition(session, work_order_id, action,
                                          actor=actor_of(principal), now=now,
                                          note=request.note, confirm=request.confirm)
    await session.commit()
    if action is Action.RESOLVE and work_order.notify_residents:
        tell(background, notifier, work_order, AlertKind.RESOLVED, now)
    return await detail(session, work_order_id, principal)


@router.get("/ledger", response_model=LedgerPublic)
async def read_ledger(
    session: SessionDep, principal: CurrentStaff, now: NowDep,
    estate: Annotated[str | None, Query(description="one estate; default: all in scope")] = None,
) -> LedgerPublic:
    """Green (on the spot), yellow (≤ 2 days), red (several parties, ≤ 7 days) per estate."""
    entries = await queries.ledger(session, estates=narrow_scope(principal, estate), now=now)
    return LedgerPublic(data=entries, count=len(entries))


@router.get("/stats/on-time", response_model=OnTimeStatsList)
async def read_on_time_stats(
    session: SessionDep, principal: CurrentStaff, now: NowDep,
    estate: Annotated[str | None, Query(description="one estate; default: all in scope")] = None,
    since: Annotated[IsoDatetime | None, Query(description="raised since; default: 30 days")
                     ] = None,
) -> OnTimeStatsList:
    """5341 performance per estate and team: deadlines met and missed."""
    stats = await queries.on_time_stats(session, estates=narrow_scope(principal, estate),
                                        since=since or now - DEFAULT_STATS_WINDOW, now=now)
    return OnTimeStatsList(data=stats, count=len(stats))
