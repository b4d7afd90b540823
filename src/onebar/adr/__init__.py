"""Architecture decision records (MADR style) under docs/adr, with sign-offs the gate checks."""

from onebar.adr.ops import DEFAULT_DIR, accept, get, load_all, new, sign, supersede
from onebar.adr.records import STATUSES, Adr, AdrError, SignOff, parse_adr, render_adr

__all__ = [
    "DEFAULT_DIR",
    "STATUSES",
    "Adr",
    "AdrError",
    "SignOff",
    "accept",
    "get",
    "load_all",
    "new",
    "parse_adr",
    "render_adr",
    "sign",
    "supersede",
]
