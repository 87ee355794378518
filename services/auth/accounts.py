"""Staff accounts in the SQL store: create, list, and turn a login or token into a Principal."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Team
from registry.tables import Estate, Zone
from services.auth.errors import NotAuthenticated
from services.auth.passwords import verify_password_async
from services.auth.principal import Principal, Role
from services.auth.tables import Staff, StaffEstate, StaffZone


class AccountError(ValueError):
    """A staff account cannot be created as asked (duplicate name, unknown estate...)."""


class AccountNotFound(AccountError):
    """No staff account with this id or username."""


class DuplicateAccount(AccountError):
    """The username is taken."""


@dataclass(frozen=True, slots=True)
class NewStaff:
    username: str
    role: Role
    password_hash: str
    estates: frozenset[str] = frozenset()
    team: Team | None = None
    display_name: str | None = None
    apprise_url: str | None = None
    on_duty: bool = False
    # Zones the member works in: it sees every estate of each, present and future.
    zones: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StaffSummary:
    id: int
    username: str
    display_name: str
    role: Role
    team: Team | None
    estates: tuple[str, ...]
    on_duty: bool
    active: bool
    apprise_url: str | None = None


@dataclass(frozen=True, slots=True)
class StaffChanges:
    """What an administrator changes of an account; None leaves a field as it is."""

    display_name: str | None = None
    role: Role | None = None
    team: Team | None = None
    clear_team: bool = False
    estates: frozenset[str] | None = None
    apprise_url: str | None = None
    on_duty: bool | None = None
    active: bool | None = None


async def _estates_of(session: AsyncSession, staff_id: int) -> frozenset[str]:
    """The estates linked to the member, and every estate of the zones linked to it."""
    direct = await session.scalars(select(StaffEstate.estate_id)
                                   .where(StaffEstate.staff_id == staff_id))
    zoned = await session.scalars(select(Estate.id).join(
        StaffZone, StaffZone.zone_id == Estate.zone_id).where(StaffZone.staff_id == staff_id))
    return frozenset(direct) | frozenset(zoned)


async def _check_zones(session: AsyncSession, zones: Collection[str]) -> None:
    known = set(await session.scalars(select(Zone.id).where(Zone.id.in_(list(zones)))))
    missing = sorted(set(zones) - known)
    if missing:
        raise AccountError(f"no such zone: {', '.join(missing)}")


async def _missing_estates(session: AsyncSession, estates: Collection[str]) -> list[str]:
    known = set(await session.scalars(select(Estate.id).where(Estate.id.in_(list(estates)))))
    return sorted(set(estates) - known)


def principal_of(staff: Staff, estates: frozenset[str]) -> Principal:
    return Principal(staff_id=staff.id, username=staff.username, role=Role(staff.role),
                     team=staff.team, estates=estates, display_name=staff.display_name,
                     token_generation=staff.token_generation or 0)


async def create_staff(session: AsyncSession, new: NewStaff) -> Principal:
    """Add a staff member (the caller commits); AccountError names what is wrong."""
    if new.role is not Role.ADMIN and not (new.estates or new.zones):
        raise AccountError(f"a {new.role.value} needs at least one estate or zone")
    missing = await _missing_estates(session, new.estates)
    if missing:
        raise AccountError(f"no such estate: {', '.join(missing)}")
    await _check_zones(session, new.zones)
    staff = Staff(username=new.username, display_name=new.display_name or new.username,
                  password_hash=new.password_hash, role=new.role, team=new.team,
                  on_duty=new.on_duty, apprise_url=new.apprise_url, active=True)
    session.add(staff)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DuplicateAccount(f"staff member {new.username!r} already exists") from exc
    session.add_all([StaffEstate(staff_id=staff.id, estate_id=estate) for estate in new.estates])
    session.add_all([StaffZone(staff_id=staff.id, zone_id=zone) for zone in new.zones])
    await session.flush()
    return principal_of(staff, await _estates_of(session, staff.id))


async def list_staff(session: AsyncSession, *,
                     staff_id: int | None = None) -> list[StaffSummary]:
    statement = select(Staff).order_by(Staff.username)
    link_statement = select(StaffEstate.staff_id, StaffEstate.estate_id).order_by(
        StaffEstate.estate_id)
    if staff_id is not None:
        statement = statement.where(Staff.id == staff_id)
        link_statement = link_statement.where(StaffEstate.staff_id == staff_id)
    staff_rows = list(await session.scalars(statement))
    links = (await session.execute(link_statement)).all()
    estates: dict[int, list[str]] = {}
    for linked_id, estate_id in links:
        estates.setdefault(linked_id, []).append(estate_id)
    return [StaffSummary(id=row.id, username=row.username, display_name=row.display_name,
                         role=Role(row.role), team=row.team,
                         estates=tuple(estates.get(row.id, ())), on_duty=row.on_duty,
                         active=row.active, apprise_url=row.apprise_url)
            for row in staff_rows]


async def authenticate(session: AsyncSession, *, username: str, password: str) -> Principal:
    """The active staff member with these credentials; NotAuthenticated otherwise."""
    staff = await session.scalar(select(Staff).where(Staff.username == username))
    usable = staff is not None and staff.active
    hash_to_check = staff.password_hash if staff is not None and usable else None
    if not await verify_password_async(password, hash_to_check) or staff is None:
        raise NotAuthenticated("incorrect username or password")
    return principal_of(staff, await _estates_of(session, staff.id))


async def active_principal(session: AsyncSession, staff_id: int,
                           token_generation: int = 0) -> Principal:
    """The staff member as the database has it now: a token outlives no deactivation and no
    password change (`token_generation`, the one the token was issued under)."""
    staff = await session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise NotAuthenticated("this staff account no longer exists or is inactive")
    if token_generation != (staff.token_generation or 0):
        raise NotAuthenticated("the password was changed since this token was issued: "
                               "log in again")
    return principal_of(staff, await _estates_of(session, staff.id))


async def set_password(session: AsyncSession, *, username: str, password_hash: str) -> bool:
    """Replace a staff member's password (the caller commits); False if there is no such one."""
    staff = await session.scalar(select(Staff).where(Staff.username == username))
    if staff is None:
        return False
    replace_password(staff, password_hash)
    await session.flush()
    return True


def replace_password(staff: Staff, password_hash: str) -> None:
    """A new password ends every token issued under the old one (a lost phone stays locked
    out once an admin resets the password)."""
    staff.password_hash = password_hash
    staff.token_generation = (staff.token_generation or 0) + 1


async def find_staff(session: AsyncSession, *, staff_id: int | None = None,
                     username: str | None = None) -> Staff:
    """The account by id or username; AccountNotFound if there is none."""
    statement = select(Staff).where(
        Staff.id == staff_id if staff_id is not None else Staff.username == username)
    staff = await session.scalar(statement)
    if staff is None:
        raise AccountNotFound(f"no staff member {username or staff_id!r}")
    return staff


async def _set_estates(session: AsyncSession, staff: Staff, estates: frozenset[str]) -> None:
    missing = await _missing_estates(session, estates)
    if missing:
        raise AccountError(f"no such estate: {', '.join(missing)}")
    await session.execute(delete(StaffEstate).where(StaffEstate.staff_id == staff.id))
    session.add_all([StaffEstate(staff_id=staff.id, estate_id=estate) for estate in estates])


async def _keep_an_admin(session: AsyncSession, staff: Staff) -> None:
    """Refuse to demote or disable the last active admin: nobody could administer again."""
    others = await session.scalar(select(func.count()).select_from(Staff).where(
        Staff.role == Role.ADMIN, Staff.active.is_(True), Staff.id != staff.id))
    if not others:
        raise AccountError(f"{staff.username} is the last active admin: add another first")


async def update_staff(session: AsyncSession, staff: Staff, changes: StaffChanges) -> StaffSummary:
    """Apply an administrator's changes (the caller commits). A disabled account cannot log
    in, and its tokens stop working: every request reads `active` again."""
    estates = changes.estates if changes.estates is not None else await _estates_of(
        session, staff.id)
    role = changes.role or Role(staff.role)
    if role is not Role.ADMIN and not estates:
        raise AccountError(f"a {role.value} needs at least one estate")
    if staff.role is Role.ADMIN and (role is not Role.ADMIN or changes.active is False):
        await _keep_an_admin(session, staff)
    if changes.estates is not None:
        await _set_estates(session, staff, changes.estates)
    staff.role = role
    staff.team = None if changes.clear_team else (changes.team or staff.team)
    for name in ("display_name", "on_duty", "active"):
        value = getattr(changes, name)
        if value is not None:
            setattr(staff, name, value)
    if changes.apprise_url is not None:
        staff.apprise_url = changes.apprise_url or None
    await session.flush()
    return (await list_staff(session, staff_id=staff.id))[0]
