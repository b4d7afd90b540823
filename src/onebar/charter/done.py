"""The definition of done: the charter's `[done]` table, read by the gate.

The gate package owns the meaning of each rule; this module only holds the typed settings so that
the charter can be validated as a whole.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DefinitionOfDone(BaseModel):
    """Settings of the gate's rules (extended by the gate; see docs/gate.md)."""

    model_config = ConfigDict(extra="allow")
