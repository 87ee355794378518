"""Password hashes (argon2id via pwdlib); hashing and checking are CPU-bound, so they run
off the event loop in a small pool of their own: however many logins arrive at once, at
most HASH_WORKERS hashes run together and the rest wait their turn, leaving CPU for every
other request (argon2 releases the GIL while it works)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 8
# Half the cores (at least one): logins can never take the whole machine.
HASH_WORKERS = max(1, (os.cpu_count() or 2) // 2)


class WeakPassword(ValueError):
    """A new password too short to be accepted."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("no such staff member: a hash to check against anyway")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when `password` matches; a missing hash still costs a check, so timing tells nothing."""
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False
    try:
        return _hasher().verify(password, password_hash)
    except UnknownHashError:
        return False


@lru_cache(maxsize=1)
def hash_pool() -> ThreadPoolExecutor:
    """The threads that hash; created on first use, shared by every event loop."""
    return ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="password-hash")


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(hash_pool(), hash_password,
                                                            password)


async def verify_password_async(password: str, password_hash: str | None) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        hash_pool(), verify_password, password, password_hash)
