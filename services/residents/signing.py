"""The signature of a QR link: HMAC-SHA256 over the link id and its estate.

The code printed is `{id}.{signature}` under `/r/{estate}/`; a link copied to another estate's
path, a changed id or a made-up signature all fail the check before the database is asked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

SIGNATURE_BYTES = 16  # 128 bits, 22 characters in the code
_DERIVATION_LABEL = b"estateops/qr-links/v1"


def link_key(qr_secret: str | None, jwt_secret: str) -> bytes:
    """The key: the dedicated QR secret if set, else one derived from the JWT secret (a
    rotated JWT secret then invalidates the printed codes: set the QR secret to keep them)."""
    base = (qr_secret or jwt_secret).encode()
    return hmac.new(base, _DERIVATION_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, estate_id: str, link_id: int) -> str:
    digest = hmac.new(key, f"{estate_id}\x00{link_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class SignedCode:
    estate_id: str
    link_id: int

    def code(self, key: bytes) -> str:
        return f"{self.link_id}.{_mac(key, self.estate_id, self.link_id)}"

    def path(self, key: bytes) -> str:
        return f"/r/{self.estate_id}/{self.code(key)}"


def verify(key: bytes, estate_id: str, code: str) -> int | None:
    """The link id of a genuine code for `estate_id`, else None."""
    link_part, _, signature = code.partition(".")
    if not link_part.isdigit() or len(link_part) > 12 or not signature:
        return None
    link_id = int(link_part)
    if not hmac.compare_digest(_mac(key, estate_id, link_id).encode(), signature.encode()):
        return None
    return link_id
