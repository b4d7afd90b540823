"""The charter: onebar.toml, the one written-down standard every contributor is held to."""

from onebar.charter.load import CHARTER_FILE, find_charter, load_charter, parse_charter
from onebar.charter.model import Charter, Component, Delivery, Organisation, Person

__all__ = [
    "CHARTER_FILE",
    "Charter",
    "Component",
    "Delivery",
    "Organisation",
    "Person",
    "find_charter",
    "load_charter",
    "parse_charter",
]
