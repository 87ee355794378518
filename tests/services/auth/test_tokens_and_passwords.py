"""Password hashes and bearer tokens, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from core.vocabulary import Team
from services.auth.errors import NotAuthenticated
from services.auth.passwords import WeakPassword, hash_password, verify_password
from services.auth.principal import Principal, Role
from services.auth.tokens import issue_token, read_token
from tests.utils.auth import JWT_SECRET, PASSWORD, password_hash

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ALICE = Principal(staff_id=7, username="alice", role=Role.TECHNICIAN, team=Team.REPAIR,
                  estates=frozenset({"longdi", "songhua"}))


def test_a_hash_verifies_only_its_own_password() -> None:
    stored = password_hash()

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)


def test_no_hash_or_a_foreign_hash_never_verifies() -> None:
    assert not verify_password(PASSWORD, None)
    assert not verify_password(PASSWORD, "$2b$12$not-an-argon2-hash")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(WeakPassword):
        hash_password("short")


def test_token_round_trip_keeps_identity_role_team_and_estates() -> None:
    token = issue_token(ALICE, secret=JWT_SECRET, ttl_s=60, now=NOW)

    assert read_token(token, secret=JWT_SECRET, now=NOW + timedelta(seconds=59)) == Principal(
        staff_id=7, username="alice", role=Role.TECHNICIAN, team=Team.REPAIR,
        estates=frozenset({"longdi", "songhua"}))
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert (claims["sub"], claims["role"], claims["estates"]) == (
        "7", "technician", ["longdi", "songhua"])


def test_token_expires_at_its_ttl_by_the_injected_clock() -> None:
    token = issue_token(ALICE, secret=JWT_SECRET, ttl_s=60, now=NOW)

    with pytest.raises(NotAuthenticated, match="expired"):
        read_token(token, secret=JWT_SECRET, now=NOW + timedelta(seconds=60))


def test_token_signed_with_another_secret_is_refused() -> None:
    token = issue_token(ALICE, secret="another-secret-which-is-long-enough-too", ttl_s=60, now=NOW)

    with pytest.raises(NotAuthenticated, match="not valid"):
        read_token(token, secret=JWT_SECRET, now=NOW)


def test_tampered_or_unsigned_tokens_are_refused() -> None:
    header, _payload, signature = issue_token(ALICE, secret=JWT_SECRET, ttl_s=60,
                                             now=NOW).split(".")
    admin = jwt.encode({"sub": "7", "role": "admin", "estates": [], "iat": 0,
                        "exp": int(NOW.timestamp()) + 60}, JWT_SECRET)
    forged_payload = admin.split(".")[1]
    unsigned = jwt.encode({"sub": "7", "role": "admin", "estates": [], "iat": 0,
                           "exp": int(NOW.timestamp()) + 60}, key=None, algorithm="none")

    for token in (f"{header}.{forged_payload}.{signature}", unsigned, "not-a-jwt"):
        with pytest.raises(NotAuthenticated):
            read_token(token, secret=JWT_SECRET, now=NOW)


def test_a_token_missing_a_claim_is_refused() -> None:
    token = jwt.encode({"sub": "7", "exp": int(NOW.timestamp()) + 60, "iat": 0}, JWT_SECRET)

    with pytest.raises(NotAuthenticated):
        read_token(token, secret=JWT_SECRET, now=NOW)


def test_a_short_jwt_secret_is_a_settings_error() -> None:
    from pydantic import ValidationError

    from estateops.settings import Settings

    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(auth={"jwt_secret": "too-short"})
    assert Settings(auth={"jwt_secret": JWT_SECRET}).auth.token_ttl_s == 8 * 3600
