"""The residents' side: QR links at places, reports that become work orders, the progress
link with photos and a rating ([README](README.md))."""

from __future__ import annotations

from services.residents.categories import ROUTING, ResidentCategory
from services.residents.errors import (
    LinkRefused,
    PhotoRefused,
    ProgressNotFound,
    RatingRefused,
    ResidentError,
    TooManyReports,
)

__all__ = ["ROUTING", "LinkRefused", "PhotoRefused", "ProgressNotFound", "RatingRefused",
           "ResidentCategory", "ResidentError", "TooManyReports"]
