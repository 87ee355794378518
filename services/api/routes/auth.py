"""Log in (OAuth2 password grant → bearer token) and see who you are."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.api.deps import CurrentStaff, ResourcesDep
from services.api.models import ErrorPublic
from services.auth.schemas import PasswordGrant, StaffPublic, TokenPublic, staff_public

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# The token route is public; everything under `router` sits behind the bearer token.
token_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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
    grant: Annotated[PasswordGrant, Depends(password_grant)], resources: ResourcesDep,
    request: Request,
) -> TokenPublic:
    """Failed logins are limited per account and per client address (then 429)."""
    client = request.client.host if request.client is not None else ""
    issued = await resources.authenticator.login(grant.username, grant.password, client=client)
    return TokenPublic(access_token=issued.token, expires_at=issued.expires_at,
                       expires_in=resources.authenticator.token_ttl_s,
                       staff=staff_public(issued.principal))


@router.get("/me", response_model=StaffPublic)
async def read_me(principal: CurrentStaff) -> StaffPublic:
    return staff_public(principal)
