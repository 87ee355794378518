"""Logins and bearer tokens against the staff accounts, with an injectable clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock, SystemClock
from services.auth.accounts import active_principal, authenticate
from services.auth.errors import NotAuthenticated
from services.auth.principal import Principal
from services.auth.throttle import LoginThrottle
from services.auth.tokens import issue_token, read_token


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
    principal: Principal


@dataclass(frozen=True, slots=True)
class Authenticator:
    sessions: async_sessionmaker[AsyncSession]
    secret: str
    token_ttl_s: int
    clock: Clock = field(default_factory=SystemClock)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    async def login(self, username: str, password: str, *, client: str = "") -> IssuedToken:
        """A token for these credentials; TooManyAttempts once the account or the client
        address (`client`) has used up its failed logins, before the password is checked."""
        self.throttle.admit(username, client)
        try:
            async with self.sessions() as session:
                principal = await authenticate(session, username=username, password=password)
        except NotAuthenticated:
            self.throttle.failed(client)
            raise
        self.throttle.succeeded(username)
        now = self.clock.now()
        token = issue_token(principal, secret=self.secret, ttl_s=self.token_ttl_s, now=now)
        return IssuedToken(token=token, principal=principal,
                           expires_at=now + timedelta(seconds=self.token_ttl_s))

    async def principal(self, token: str) -> Principal:
        """Who holds `token`, as the database has it now; NotAuthenticated if nobody valid."""
        claimed = read_token(token, secret=self.secret, now=self.clock.now())
        # A short session of its own: a long response (the alert stream) holds no connection.
        async with self.sessions() as session:
            return await active_principal(session, claimed.staff_id,
                                          claimed.token_generation)
