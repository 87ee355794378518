"""Mosquitto's view of the registry: device accounts, their password file and ACL file.

A device's username carries its estate and id (`longdi/leak-0001`): ids are unique only
within an estate. Its ACL lets it publish to `estates/{estate}/{type}/{id}/#` and nothing
else, so it can speak neither for another estate's device of the same id nor under another
type. Both files are written whole and renamed into place, so the broker never reads half a
file; SIGHUP makes it reread them without dropping anyone.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Mosquitto 2.0's PBKDF2-SHA512 (`$7$`). Device passwords are 192 random bits, so the
# iteration count guards nothing a brute force could reach; Mosquitto's own default is 101.
HASH_ITERATIONS = 1000
SALT_BYTES = 12
PASSWORD_BYTES = 24
PASSWORD_FILE = "devices.passwd"
ACL_FILE = "devices.acl"
# Readable by the broker's user, whoever wrote it (another container, another uid).
FILE_MODE = 0o644
HEADER = "# Written by `estateops broker sync` from the device registry: do not edit.\n"


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def mosquitto_hash(password: str, *, salt: bytes | None = None,
                   iterations: int = HASH_ITERATIONS) -> str:
    """`$7$iterations$salt$hash`, as `mosquitto_passwd` writes and Mosquitto 2.0 reads it."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return f"$7${iterations}${next(encoded)}${next(encoded)}"


def device_username(estate_id: str, device_id: str) -> str:
    """The broker account of a device; `/` never occurs in a slug, so no two collide."""
    return f"{estate_id}/{device_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceAccount:
    estate_id: str
    device_id: str
    device_type: str
    password_hash: str

    @property
    def username(self) -> str:
        return device_username(self.estate_id, self.device_id)

    @property
    def topic(self) -> str:
        """Everything this device may publish to (its Last Will included)."""
        return f"estates/{self.estate_id}/{self.device_type}/{self.device_id}/#"


def password_file(accounts: Iterable[DeviceAccount]) -> str:
    return "".join(f"{account.username}:{account.password_hash}\n" for account in accounts)


def acl_file(accounts: Iterable[DeviceAccount]) -> str:
    """Per account one `user` block; what no block grants is refused (read included)."""
    blocks = (f"user {account.username}\ntopic write {account.topic}\n" for account in accounts)
    return HEADER + "\n".join(blocks)


def write_atomically(path: Path, text: str, mode: int = FILE_MODE) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(mode)
    temporary.replace(path)


def write_broker_files(directory: Path, accounts: list[DeviceAccount]) -> tuple[Path, Path]:
    """The device password and ACL files in `directory` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    passwords, acl = directory / PASSWORD_FILE, directory / ACL_FILE
    # The ACL first: a new device briefly refused beats one briefly allowed everything.
    write_atomically(acl, acl_file(accounts))
    write_atomically(passwords, password_file(accounts))
    return passwords, acl


def reload_broker(pid_file: Path) -> int:
    """SIGHUP to the broker named by `pid_file`: it rereads passwords and ACLs, keeping
    every connection. Returns the pid."""
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGHUP)
    return pid
