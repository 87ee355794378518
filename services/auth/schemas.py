"""What the log-in API takes and gives (pydantic v2 models)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.vocabulary import Team
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
