"""Bearer tokens: HS256 JWTs naming the staff member, its role and its estates."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import jwt

from core.vocabulary import Team
from services.auth.errors import NotAuthenticated
from services.auth.principal import Principal, Role

log = logging.getLogger(__name__)
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "role", "estates"]


def issue_token(principal: Principal, *, secret: str, ttl_s: float, now: datetime) -> str:
    claims: dict[str, Any] = {
        "sub": str(principal.staff_id),
        "name": principal.username,
        "role": principal.role.value,
        "team": None if principal.team is None else principal.team.value,
        "estates": sorted(principal.estates),
        "gen": principal.token_generation,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str, now: datetime) -> Principal:
    """The token's principal; NotAuthenticated if it is forged, malformed or expired at `now`.

    Expiry is checked against the injected clock, not PyJWT's wall clock, so tests can move time.
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"verify_exp": False, "verify_iat": False,
                                     "require": REQUIRED_CLAIMS})
        if int(claims["exp"]) <= now.timestamp():
            raise NotAuthenticated("the token has expired: log in again")
        return Principal(
            staff_id=int(claims["sub"]), username=str(claims.get("name", "")),
            role=Role(claims["role"]),
            team=None if claims.get("team") is None else Team(claims["team"]),
            estates=frozenset(str(estate) for estate in claims["estates"]),
            token_generation=int(claims.get("gen", 0)),
        )
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError) as exc:
        # The decoder's own words stay in the log: they help nobody but a forger.
        log.debug("refused a bearer token: %s", exc)
        raise NotAuthenticated("the token is not valid: log in again") from exc
