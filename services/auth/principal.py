"""Who is calling: a staff member's identity, role, team and estates, as the API sees them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.vocabulary import Team


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated staff member; its rights are decided in services.auth.policy."""

    staff_id: int
    username: str
    role: Role
    team: Team | None
    estates: frozenset[str]
    display_name: str = ""
    # Bumped by every password change: a token carries the generation it was issued under,
    # and one from an older generation is refused (a reset ends every session).
    token_generation: int = 0

    @property
    def name(self) -> str:
        return self.display_name or self.username
