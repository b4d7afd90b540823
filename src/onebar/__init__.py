"""onebar: one bar for every contributor, internal or external."""

__version__ = "0.1.0"
