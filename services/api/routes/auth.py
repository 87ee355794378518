"""Log in (OAuth2 password grant → bearer token) and see who you are."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from core.vocabulary import Team
from services.api.deps import CurrentStaff, ResourcesDep
from services.api.models import ErrorPublic
from services.auth.principal import Principal, Role

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# The token route is public; everything under `router` sits behind the bearer token.
token_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class PasswordGrant(BaseModel):
    grant_type: Literal["password"] | None = None
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    scope: str = ""


class StaffPublic(BaseModel):
    id: int
    username: str
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
    return StaffPublic(id=principal.staff_id, username=principal.username, role=principal.role,
                       team=principal.team, estates=sorted(principal.estates))


async def password_grant(request: Request) -> PasswordGrant:
    """The OAuth2 form, parsed here because python-multipart is not among our dependencies."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        return PasswordGrant.model_validate(dict(parse_qsl(body, keep_blank_values=True)))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


_FORM_SCHEMA = {
    "type": "object", "required": ["username", "password"],
    "properties": {"grant_type": {"type": "string", "enum": ["password"]},
                   "username": {"type": "string"},
                   "password": {"type": "string", "format": "password"}},
}


@token_router.post(
    "/token",
    response_model=TokenPublic,
    responses={401: {"model": ErrorPublic, "description": "wrong username or password"}},
    openapi_extra={"requestBody": {"required": True,
                                   "content": {FORM_CONTENT_TYPE: {"schema": _FORM_SCHEMA}}}},
)
async def log_in(
    grant: Annotated[PasswordGrant, Depends(password_grant)], resources: ResourcesDep
) -> TokenPublic:
    issued = await resources.authenticator.login(grant.username, grant.password)
    return TokenPublic(access_token=issued.token, expires_at=issued.expires_at,
                       expires_in=resources.authenticator.token_ttl_s,
                       staff=staff_public(issued.principal))


@router.get("/me", response_model=StaffPublic)
async def read_me(principal: CurrentStaff) -> StaffPublic:
    return staff_public(principal)
