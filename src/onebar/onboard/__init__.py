"""The onboarding brief (`onebar onboard PERSON`) and the knowledge-transfer plan of an off-boarding.

brief_for(workspace, person, today=...) -> Brief          render_brief(brief, "md" | "html" | ...)
transfer_plan(charter, knowledge, leaving, today=...) -> TransferPlan
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from onebar.onboard.brief import Brief, build_brief
from onebar.onboard.knowledge import Knowledge, from_report
from onebar.onboard.render import render_brief

if TYPE_CHECKING:
    from onebar.workspace import Workspace

__all__ = ["Brief", "Knowledge", "brief_for", "build_brief", "from_report", "render_brief"]


def brief_for(ws: Workspace, person: str, *, today: date) -> Brief:
    """The brief of `person` in an opened workspace: knowledge from the report over all history."""
    from onebar.access.grants import list_grants
    from onebar.access.model import person_of
    from onebar.adr.ops import load_all
    from onebar.report import report_for

    person_of(ws.charter, person)  # fail before building a report for nobody
    knowledge = from_report(report_for(ws, since="all"))
    with ws.store.read() as conn:
        grants = list_grants(conn, repository=ws.repo.name)
    adrs = [] if ws.repo.bare else load_all(ws.repo.root / ws.charter.done.adr.directory)
    return build_brief(
        ws.charter, person, repository=ws.repo.name, today=today, knowledge=knowledge, grants=grants, adrs=adrs
    )
