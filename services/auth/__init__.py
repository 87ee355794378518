"""Staff accounts, passwords, bearer tokens and the authorisation rules of the API."""

from services.auth.accounts import (
    AccountError,
    NewStaff,
    StaffSummary,
    create_staff,
    list_staff,
    set_password,
)
from services.auth.authenticator import Authenticator, IssuedToken, MissingJwtSecret
from services.auth.errors import AuthError, NotAuthenticated, OutsideScope, PermissionDenied
from services.auth.passwords import WeakPassword, hash_password, verify_password
from services.auth.policy import (
    EVERY_OPERATION,
    Access,
    Operation,
    WorkTarget,
    authorise,
    can_see,
    estate_scope,
    narrow_scope,
    permits,
    require_visible,
)
from services.auth.principal import Principal, Role
from services.auth.tokens import issue_token, read_token

__all__ = [
    "EVERY_OPERATION",
    "Access",
    "AccountError",
    "AuthError",
    "Authenticator",
    "IssuedToken",
    "MissingJwtSecret",
    "NewStaff",
    "NotAuthenticated",
    "Operation",
    "OutsideScope",
    "PermissionDenied",
    "Principal",
    "Role",
    "StaffSummary",
    "WeakPassword",
    "WorkTarget",
    "authorise",
    "can_see",
    "create_staff",
    "estate_scope",
    "hash_password",
    "issue_token",
    "list_staff",
    "narrow_scope",
    "permits",
    "read_token",
    "require_visible",
    "set_password",
    "verify_password",
]
