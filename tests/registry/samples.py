"""The sample estate files and a helper to make variants of them."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def replace_in_file(path: Path, old: str, new: str) -> None:
    """Edit a sample copy; fails if `old` is not there, so a test never checks an unedited file."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
