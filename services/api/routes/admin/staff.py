"""Staff accounts: add, edit role, team and estates, disable, reset the password."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, status

from services.api.deps import SessionDep
from services.api.errors import Conflict, NotFound, Unprocessable
from services.api.models import RowId
from services.auth.accounts import (
    AccountError,
    AccountNotFound,
    DuplicateAccount,
    NewStaff,
    StaffChanges,
    create_staff,
    find_staff,
    list_staff,
    replace_password,
    update_staff,
)
from services.auth.passwords import WeakPassword, hash_password_async
from services.auth.schemas import (
    PasswordReset,
    StaffAdminPublic,
    StaffCreate,
    StaffList,
    StaffUpdate,
)

router = APIRouter(prefix="/staff", tags=["admin: staff"])


@contextmanager
def account_errors() -> Iterator[None]:
    """The accounts' errors as the API's own (one error body shape)."""
    try:
        yield
    except AccountNotFound as exc:
        raise NotFound(str(exc)) from exc
    except WeakPassword as exc:
        raise Unprocessable(str(exc), extra={"field": "password"}) from exc
    except AccountError as exc:
        error = Conflict if isinstance(exc, DuplicateAccount) else Unprocessable
        raise error(str(exc)) from exc


def _changes(update: StaffUpdate) -> StaffChanges:
    given = update.model_fields_set
    return StaffChanges(
        display_name=update.display_name, role=update.role, team=update.team,
        clear_team="team" in given and update.team is None,
        estates=None if update.estates is None else frozenset(update.estates),
        apprise_url=update.apprise_url, on_duty=update.on_duty, active=update.active)


@router.get("", response_model=StaffList)
async def read_staff(session: SessionDep) -> StaffList:
    rows = await list_staff(session)
    return StaffList(data=[StaffAdminPublic.model_validate(row) for row in rows],
                     count=len(rows))


@router.post("", response_model=StaffAdminPublic, status_code=status.HTTP_201_CREATED)
async def add_staff(new: StaffCreate, session: SessionDep) -> StaffAdminPublic:
    with account_errors():
        principal = await create_staff(session, NewStaff(
            username=new.username, role=new.role, team=new.team,
            display_name=new.display_name, estates=frozenset(new.estates),
            apprise_url=new.apprise_url or None, on_duty=new.on_duty,
            password_hash=await hash_password_async(new.password)))
        await session.commit()
    rows = await list_staff(session, staff_id=principal.staff_id)
    return StaffAdminPublic.model_validate(rows[0])


@router.patch("/{staff_id}", response_model=StaffAdminPublic)
async def edit_staff(staff_id: RowId, update: StaffUpdate, session: SessionDep
                     ) -> StaffAdminPublic:
    with account_errors():
        staff = await find_staff(session, staff_id=staff_id)
        summary = await update_staff(session, staff, _changes(update))
        await session.commit()
    return StaffAdminPublic.model_validate(summary)


@router.post("/{staff_id}/password", status_code=status.HTTP_204_NO_CONTENT)
async def reset_password(staff_id: RowId, reset: PasswordReset, session: SessionDep) -> None:
    with account_errors():
        staff = await find_staff(session, staff_id=staff_id)
        replace_password(staff, await hash_password_async(reset.password))
        await session.commit()
