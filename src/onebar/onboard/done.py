"""The definition of done in plain words, rule by rule, as the gate will apply it to one person's changes.

Every rule of the gate's registry (`onebar.gate.rules.RULES`, in its order) gets one sentence built
from the charter's `[done]` settings and, where it matters, from the person's components: who must
approve, which of them are architecture. A rule the registry gains without a sentence here still
shows, under its title (a test keeps every rule worded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onebar.charter.done import DefinitionOfDone
from onebar.charter.model import Charter
from onebar.gate.rules import RULES
from onebar.report.render.common import counted


@dataclass(frozen=True)
class RuleWords:
    id: str
    title: str
    words: str
    enforced: bool  # False: mode = "evaluate", reported but not failing the gate

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "words": self.words, "enforced": self.enforced}


@dataclass(frozen=True)
class Who:
    """What the sentences need to know about the newcomer."""

    person: str
    org: str
    components: tuple[str, ...]


def _few(items: list[str], n: int = 4) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _name(charter: Charter, pid: str) -> str:
    p = charter.people.get(pid)
    return p.name if p else pid


def _owners(charter: Charter, who: Who) -> str:
    parts = []
    for cid in who.components:
        comp = charter.components[cid]
        others = [_name(charter, r) for r in comp.responsible if r != who.person]  # nobody approves their own change
        resp = f" or a Responsible person ({_few(others)})" if others else ""
        parts.append(f"{cid}: {_name(charter, comp.accountable)} (Accountable){resp}")
    if not parts:
        return "Each component a change touches is approved by its Accountable or a Responsible person."
    return "Each component a change touches is approved by its owners. Yours: " + "; ".join(parts) + "."


def _adr(charter: Charter, who: Who) -> str:
    d = charter.done.adr
    arch = sorted(cid for cid, c in charter.components.items() if c.architecture)
    mine = [c for c in who.components if c in arch]
    where = f"ADRs live in {d.directory}"
    signers = "every involved organisation's lead" if d.signoff == "involved" else "every organisation's lead"
    if mine:
        return f"A change under {_few(mine)} (architecture) carries an accepted ADR signed off by {signers}. {where}."
    if arch or d.paths:
        where_arch = _few(arch + d.paths)
        return f"Architecture changes ({where_arch}) carry an accepted, signed-off ADR; none of your components is one."
    return "A change under architecture paths carries an accepted, signed-off ADR (the charter names none yet)."


WORDS: dict[str, Callable[[DefinitionOfDone, Charter, Who], str]] = {
    "tests.with_code": lambda d, c, w: (
        f"A change to code ({_few(d.tests.code)}) also changes tests ({_few(d.tests.tests)})."
    ),
    "docs.with_interface": lambda d, c, w: (
        f"A change that adds or removes a public function, class or export also changes docs ({_few(d.docs.docs)})."
    ),
    "coverage.total": lambda d, c, w: f"Total line coverage stays at or above {d.coverage.min_total:g} %.",
    "coverage.changed": lambda d, c, w: (
        f"At least {d.coverage.min_changed:g} % of the lines you change are covered by tests"
        + (
            f" (changes under {d.coverage.min_changed_lines} lines are exempt)."
            if d.coverage.min_changed_lines
            else ", however small the change."
        )
    ),
    "findings": lambda d, c, w: (
        f"No static-analysis finding (SARIF) at level {d.findings.level} or above "
        + {
            "changed_lines": "on the lines you change.",
            "changed_files": "in the files you change.",
            "anywhere": "anywhere in the repository.",
        }[d.findings.scope]
    ),
    "secrets": lambda d, c, w: "No secret (key, token, password) in the lines you add.",
    "licenses": lambda d, c, w: (
        f"Every dependency's licence is on the allow-list ({_few(d.licenses.allow)}); anything else, "
        "copyleft or unknown, fails until the charter allows it."
    ),
    "size": lambda d, c, w: (
        f"A change stays small enough to review: at most {d.size.max_lines} changed lines and {d.size.max_files} files."
    ),
    "reviews.approvals": lambda d, c, w: (
        f"At least {counted(d.reviews.min_approvals, 'approving review')}, and no request for changes left open."
    ),
    "reviews.cross_org": lambda d, c, w: (
        f"At least one approval comes from someone outside {w.org}: the same bar whoever wrote the change."
        if d.reviews.cross_org
        else "Approvals may come from your own organisation (cross-organisation review is off)."
    ),
    "agents.human_review": lambda d, c, w: (
        "A change written by an AI coding agent is approved by a human of "
        + (_few(d.agents.accountable) if d.agents.accountable else "an organisation that is not an agent or a bot")
        + " before it merges."
    ),
    "owners": lambda d, c, w: _owners(c, w),
    "adr.architecture": lambda d, c, w: _adr(c, w),
    "charter.done": lambda d, c, w: (
        "A change to the definition of done itself ([done] in onebar.toml) needs the approval of "
        + (_few([_name(c, p) for p in d.charter.approvers]) if d.charter.approvers else "every organisation's lead")
        + "."
    ),
}


def plain_rules(charter: Charter, who: Who) -> list[RuleWords]:
    """The enabled rules of the gate, in the registry's order, each in one sentence for `who`."""
    out = []
    done = charter.done
    for rule in RULES:
        settings = getattr(done, rule.setting)
        if not settings.enabled:
            continue
        words = WORDS.get(rule.id)
        text = words(done, charter, who) if words else rule.title + "."
        out.append(RuleWords(rule.id, rule.title, text, settings.mode == "enforce"))
    return out
