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
