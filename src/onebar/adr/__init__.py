"""Architecture decision records (MADR style) under docs/adr, with sign-offs the gate checks."""

from onebar.adr.ops import DEFAULT_DIR, AdrDirectory, accept, get, load_all, new, open_adrs, sign, supersede
from onebar.adr.records import STATUSES, Adr, AdrError, SignOff, parse_adr, render_adr

__all__ = [
    "DEFAULT_DIR",
    "STATUSES",
    "Adr",
    "AdrDirectory",
    "AdrError",
    "SignOff",
    "accept",
    "get",
    "load_all",
    "new",
    "open_adrs",
    "parse_adr",
    "render_adr",
    "sign",
    "supersede",
]
