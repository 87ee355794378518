"""The staff web page and the API docs: static HTML whose scripts call the API with a bearer
token, and every asset served from this package (estate intranets are often offline).

The pages and assets are public (they hold no data); every data call they make carries the
token, so the API's own checks decide what a person sees.
"""

from __future__ import annotations

from services.web.pages import router

__all__ = ["router"]
