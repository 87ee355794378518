"""What the log-in API takes and gives (pydantic v2 models)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from core.slug import SLUG_PATTERN
from core.vocabulary import Team
from services.auth.passwords import MIN_PASSWORD_LENGTH
from services.auth.principal import Principal, Role


class PasswordGrant(BaseModel):
    grant_type: Literal["password"] | None = None
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    scope: str = ""


class StaffPublic(BaseModel):
    id: int
    username: str
    display_name: str = ""
    role: Role
    team: Team | None
    estates: list[str] = Field(description="estates in scope; an admin sees every estate")


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
    expires_at: datetime
    staff: StaffPublic


def staff_public(principal: Principal) -> StaffPublic:
    return StaffPublic(id=principal.staff_id, username=principal.username,
                       display_name=principal.display_name, role=principal.role,
                       team=principal.team, estates=sorted(principal.estates))


class StaffCreate(BaseModel):
    """An administrator adds a staff member."""

    username: str = Field(pattern=SLUG_PATTERN)
    display_name: str | None = Field(default=None, max_length=200)
    role: Role
    team: Team | None = None
    estates: list[str] = Field(default_factory=list)
    apprise_url: str | None = Field(default=None, max_length=2000)
    on_duty: StrictBool = False
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


class StaffUpdate(BaseModel):
    """What an administrator changes; a field left out stays as it is (`team: null` clears)."""

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    team: Team | None = None
    estates: list[str] | None = None
    apprise_url: str | None = Field(default=None, max_length=2000,
                                    description="empty string: no personal alerts")
    on_duty: StrictBool | None = None
    active: StrictBool | None = Field(default=None, description="false disables the account")


class PasswordReset(BaseModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


class StaffAdminPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    team: Team | None
    estates: list[str]
    on_duty: bool
    active: bool
    apprise_url: str | None


class StaffList(BaseModel):
    data: list[StaffAdminPublic]
    count: int
