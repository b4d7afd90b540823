"""The visibility policy on a realistic report: for every organisation, a lead and each member see no
name, e-mail, login or id of a person they may not see, anywhere in the report JSON."""

from __future__ import annotations

import json

import pytest

from onebar.auth.roles import Principal, Role
from onebar.auth.visibility import HIDDEN_NAME, Scope, filter_report, sees_org, sees_person
from onebar.report import report_for
from onebar.workspace import open_workspace


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], object]:
    from onebar.demo import build_demo

    root = tmp_path_factory.mktemp("vis")
    build_demo(root / "demo", 1500, 0, force=True)
    with open_workspace(root / "demo", db=f"sqlite:///{root / 's.db'}") as ws:
        data = report_for(ws, since="all").to_json()
        return data, ws.charter


def _leaks(text: str, charter: object, principal: Principal) -> list[str]:
    """Hidden people named in `text`. Bots and AI agents are machines, not people: everyone sees them."""
    found = []
    machines = {o for o, org in charter.organisations.items() if org.kind in ("bot", "agent")}  # type: ignore[attr-defined]
    for pid, p in charter.people.items():  # type: ignore[attr-defined]
        if sees_person(principal, pid, p.org) or p.org in machines:
            continue
        for needle in (f'"{pid}"', p.name, *p.emails, *([p.github] if p.github else [])):
            if needle in text:
                found.append(f"{pid}: {needle}")
    return found


@pytest.mark.slow
def test_no_lead_or_member_of_any_organisation_sees_a_hidden_person(
    demo_report: tuple[dict[str, object], object],
) -> None:
    data, charter = demo_report
    scope = Scope.of_charter(charter)  # type: ignore[arg-type]
    everyone = json.dumps(data, ensure_ascii=False)
    strangers = [u["identity"] for u in data["contributors"]["unknown"]]  # type: ignore[index]
    assert all(p.name in everyone for p in list(charter.people.values())[:3])  # type: ignore[attr-defined]
    viewers = [Principal(1, Role.LEAD, org=o) for o in charter.organisations]  # type: ignore[attr-defined]
    viewers += [Principal(2, Role.MEMBER, org=p.org, person=pid) for pid, p in charter.people.items()]  # type: ignore[attr-defined]
    for v in viewers:
        view = filter_report(data, v, scope)
        text = json.dumps(view, ensure_ascii=False)
        assert not _leaks(text, charter, v), (v, _leaks(text, charter, v)[:5])
        assert set(view["dora"]["by_org"]) <= {o for o in data["dora"]["by_org"] if sees_org(v, o)}  # type: ignore[index]
        assert view["contributors"]["unknown"] == []  # type: ignore[index]
        assert not [x for x in strangers if x in text]  # people outside the charter: admin and auditor only
        # The figures stay whole: a truck factor keeps its size, hidden people keep their organisation.
        tf = view["knowledge"]["truck_factor_people"]  # type: ignore[index]
        assert len(tf) == len(data["knowledge"]["truck_factor_people"])  # type: ignore[index]
        assert all(e["name"] == HIDDEN_NAME or sees_person(v, e["person"], e["org"]) for e in tf)
    assert filter_report(data, Principal(3, Role.AUDITOR), scope) == data
