"""Why a request is refused; the API's one exception handler turns these into 401/403/404."""

from __future__ import annotations


class AuthError(Exception):
    """Root of the authentication and authorisation errors."""


class NotAuthenticated(AuthError):
    """No valid bearer token, or bad credentials (401)."""


class PermissionDenied(AuthError):
    """Authenticated, but the role or assignment does not allow this (403)."""


class OutsideScope(AuthError):
    """The resource lies in an estate the caller cannot see: answered as not found (404)."""


class TooManyAttempts(AuthError):
    """Too many failed logins for one account or from one address (429 with Retry-After)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class MissingJwtSecret(ValueError):
    """The API cannot sign tokens: no secret configured."""

    def __init__(self) -> None:
        super().__init__("no JWT secret: set ESTATEOPS_AUTH__JWT_SECRET (32+ characters), e.g. "
                         "from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
