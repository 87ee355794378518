"""Staff accounts, passwords, bearer tokens and the authorisation rules of the API.

Import what you use from its module: `accounts`, `authenticator`, `passwords` (argon2),
`tokens` (JWT), `policy` (who may do what), `tables`. The package itself re-exports only
who is calling and the errors.
"""

from services.auth.errors import AuthError, NotAuthenticated, OutsideScope, PermissionDenied
from services.auth.principal import Principal, Role

__all__ = ["AuthError", "NotAuthenticated", "OutsideScope", "PermissionDenied", "Principal",
           "Role"]
