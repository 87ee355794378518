"""Per estate: its units (to pick a resident contact's), its 5341 deadline policy and its
overrides of the device profiles' rules."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from registry.queries import list_estates, list_units
from registry.tables import Estate
from services.api.deps import ProfilesDep, SessionDep
from services.api.errors import NotFound
from services.api.models import EstateList, EstatePublic, UnitList, UnitPublic
from services.workorders import rule_overrides
from services.workorders.deadlines import (
    DeadlinePolicy,
    policy_for,
    set_estate_policy,
    stored_policy,
)
from services.workorders.schemas import (
    EstatePolicyPublic,
    EstatePolicyUpdate,
    RuleInfoList,
    RuleInfoPublic,
    RuleOverrideList,
    RuleOverridePublic,
    RuleOverrideUpdate,
)

router = APIRouter(tags=["admin: estates"])


async def registered_estate(estate_id: str, session: SessionDep) -> str:
    if await session.get(Estate, estate_id) is None:
        raise NotFound(f"estate {estate_id!r} not found")
    return estate_id


RegisteredEstate = Annotated[str, Depends(registered_estate)]


@router.get("/estates", response_model=EstateList)
async def read_estates(session: SessionDep) -> EstateList:
    rows = await list_estates(session)
    return EstateList(data=[EstatePublic.model_validate(row) for row in rows], count=len(rows))


@router.get("/estates/{estate_id}/units", response_model=UnitList)
async def read_units(estate_id: RegisteredEstate, session: SessionDep) -> UnitList:
    rows = await list_units(session, estate_id)
    return UnitList(data=[UnitPublic.model_validate(row) for row in rows], count=len(rows))


async def _policy(session: SessionDep, estate_id: str) -> EstatePolicyPublic:
    return EstatePolicyPublic(
        estate_id=estate_id, overrides=await stored_policy(session, estate_id),
        effective=asdict(await policy_for(session, estate_id)),
        defaults=asdict(DeadlinePolicy()))


@router.get("/estates/{estate_id}/policy", response_model=EstatePolicyPublic)
async def read_policy(estate_id: RegisteredEstate, session: SessionDep) -> EstatePolicyPublic:
    return await _policy(session, estate_id)


@router.put("/estates/{estate_id}/policy", response_model=EstatePolicyPublic)
async def write_policy(estate_id: RegisteredEstate, update: EstatePolicyUpdate,
                       session: SessionDep) -> EstatePolicyPublic:
    """Set the estate's own deadline numbers; `{}` restores the 5341 defaults."""
    await set_estate_policy(session, estate_id, update.deadlines)
    await session.commit()
    return await _policy(session, estate_id)


@router.get("/rules", response_model=RuleInfoList)
async def read_rules(profiles: ProfilesDep) -> RuleInfoList:
    """Every rule of the loaded device profiles, with the numbers an override may change."""
    rules = rule_overrides.declared_rules(profiles)
    return RuleInfoList(data=[RuleInfoPublic.model_validate(rule) for rule in rules],
                        count=len(rules))


@router.get("/rule-overrides", response_model=RuleOverrideList)
async def read_overrides(session: SessionDep, estate: Annotated[
        str | None, Query(description="estate id")] = None) -> RuleOverrideList:
    rows = await rule_overrides.list_overrides(session, estate_id=estate)
    return RuleOverrideList(data=[RuleOverridePublic.model_validate(row) for row in rows],
                            count=len(rows))


@router.put("/estates/{estate_id}/rule-overrides/{device_type}/{rule}",
            response_model=RuleOverridePublic)
async def write_override(estate_id: RegisteredEstate, device_type: str, rule: str,
                         update: RuleOverrideUpdate, session: SessionDep,
                         profiles: ProfilesDep) -> RuleOverridePublic:
    """Switch a rule off or change its numbers in this estate; the gateway reloads it."""
    row = await rule_overrides.set_override(
        session, profiles, estate_id=estate_id, device_type=device_type, rule=rule,
        enabled=update.enabled, params=update.params)
    await session.commit()
    return RuleOverridePublic.model_validate(row)


@router.delete("/estates/{estate_id}/rule-overrides/{device_type}/{rule}",
               status_code=status.HTTP_204_NO_CONTENT)
async def remove_override(estate_id: RegisteredEstate, device_type: str, rule: str,
                          session: SessionDep) -> None:
    removed = await rule_overrides.remove_override(session, estate_id=estate_id,
                                                   device_type=device_type, rule=rule)
    if not removed:
        raise NotFound(f"no override of {device_type}/{rule} in estate {estate_id!r}")
    await session.commit()
