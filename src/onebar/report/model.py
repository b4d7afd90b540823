"""The report as typed data: one frozen dataclass per section, one `to_json()` for the JSON contract.

Every face reads this model: the renderers (text, Markdown, HTML) read its attributes, `to_json()`
gives docs/report.schema.json, and the service serves either. The sections' own types live with
the metrics that compute them (`onebar.metrics.dora.Dora`, `review.Review`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from onebar.metrics.delivery import Dora
from onebar.metrics.jsonable import SKIP, Jsonable
from onebar.metrics.knowledge import Knowledge
from onebar.metrics.model import Contributor, Window
from onebar.metrics.offboarding import Authorship, Departure, Offboarding
from onebar.metrics.overlap import Overlap
from onebar.metrics.review import Review
from onebar.metrics.seams import Contributors

SCHEMA_VERSION = "2.0"  # 2.0: one change failure rate in every row (docs/metrics.md)


@dataclass(frozen=True, slots=True)
class RepositoryInfo(Jsonable):
    name: str
    path: str  # the git directory, as the store knows the repository
    head: str | None  # the commit the knowledge and review sections read from
    commits: int  # reachable commits in the store


@dataclass(frozen=True, slots=True)
class TiersInfo(Jsonable):
    """Which DORA report's performance tiers the figures are placed in."""

    year: int
    report: str


@dataclass(frozen=True, slots=True)
class OrgInfo(Jsonable):
    name: str
    kind: str | None  # None for the organisation of contributors the charter does not know


@dataclass(frozen=True)
class Report(Jsonable):
    """The whole delivery report of one repository over one window."""

    schema_version: str
    generated_by: str
    repository: RepositoryInfo
    window: Window
    tiers: TiersInfo
    organisations: Mapping[str, OrgInfo]  # those with changes in the window, most active first
    dora: Dora
    review: Review
    knowledge: Knowledge
    offboarding: Offboarding
    contributors: Contributors
    overlap: Overlap
    # Not serialised: what simulating anyone's departure needs (`onebar offboard`).
    authorship: Authorship = field(metadata=SKIP)
    # What the report could not see (e.g. commits whose objects git could not read), last in the JSON.
    warnings: tuple[str, ...] = ()

    @property
    def authors(self) -> Mapping[str, frozenset[str]]:
        """Each scored file's authors (person keys): what onboarding and off-boarding plans read."""
        return self.authorship.authors

    @property
    def people(self) -> Mapping[str, Contributor]:
        """Person key -> who they are (organisation, kind, label)."""
        return self.authorship.people

    def offboard(self, who: str) -> Departure:
        """The simulated departure of one organisation or one person (charter id, e-mail or name)."""
        return self.authorship.departure(who, self.offboarding.by_org)
