"""Access tied to contracts: requests, approvals, refusals, the sweep, the plan and the review, all audited."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from access_fixtures import charter_text, shop_repo
from helpers import GitRepo, run_cli
from onebar import audit
from onebar.access import Grant, Scope, approve_grant, list_grants, request_grant, revoke_grant, sweep
from onebar.access.plan import plan_access, read_holdings
from onebar.charter import Charter, parse_charter
from onebar.errors import NotFoundError, PermissionDeniedError, UsageError
from onebar.store import Store

TODAY = datetime.now(UTC).date()


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def actor(person: str | None) -> audit.Actor:
    return audit.Actor(person=person, via="cli")


def entries(store: Store) -> list[audit.Entry]:
    with store.read() as conn:
        return list(audit.entries(conn))


@pytest.fixture
def charter() -> Charter:
    return parse_charter(charter_text(TODAY))


def ask(
    store: Store, charter: Charter, person: str, scope: Scope, until: date, level: str = "write", by: str = "bo"
) -> Grant:
    return request_grant(
        store, charter, "shop", person=person, scope=scope, until=until, level=level, reason="T-1",
        actor=actor(by), today=TODAY,
    )  # fmt: skip


# --- the library ---------------------------------------------------------------------------------------


def test_request_then_approve_by_the_owning_lead(store: Store, charter: Charter) -> None:
    g = ask(store, charter, "cy", Scope("component", "api"), day(5))
    assert (g.status, g.approver, g.starts_on, g.ends_on) == ("pending", "ana", TODAY, day(5))
    web = ask(store, charter, "cy", Scope("component", "web"), day(5))
    assert web.approver == "vic"  # web's Accountable is vic, lead of vendor
    done = approve_grant(store, charter, g.id, actor=actor("ana"), today=TODAY)
    assert done.status == "approved" and done.active(TODAY)
    actions = [(e.action, e.target, e.outcome, e.actor.person) for e in entries(store)]
    assert actions == [
        ("access.grant.request", f"grant:{g.id}", "success", "bo"),
        ("access.grant.request", f"grant:{web.id}", "success", "bo"),
        ("access.grant.approve", f"grant:{g.id}", "success", "ana"),
    ]


def test_a_grant_past_the_contract_is_refused_naming_both_dates(store: Store, charter: Charter) -> None:
    with pytest.raises(UsageError) as info:
        ask(store, charter, "cy", Scope("component", "api"), day(11))
    assert str(day(11)) in info.value.message and str(day(10)) in info.value.message
    assert info.value.field == "until" and info.value.exit_code == 2
    with store.read() as conn:
        assert list_grants(conn) == []  # nothing stored but the audit entry
    [e] = entries(store)
    assert (e.action, e.outcome, e.target) == ("access.grant.request", "refused", "person:cy")
    assert e.payload_data()["until"] == str(day(11))


@pytest.mark.parametrize(
    ("person", "scope", "until", "error", "field"),
    [
        ("nobody", Scope("component", "api"), 5, NotFoundError, "person"),
        ("bo", Scope("component", "nope"), 5, NotFoundError, "component"),
        ("bo", Scope("repository", "other"), 5, NotFoundError, "repo"),
        ("bo", Scope("environment", "prod uction"), 5, UsageError, "environment"),
        ("bo", Scope("component", "api"), -1, UsageError, "until"),
        ("old", Scope("component", "api"), 5, UsageError, "until"),  # contract already over
        ("pat", Scope("component", "docs"), 5, UsageError, "component"),  # partner has no lead to approve
    ],
)
def test_bad_requests_are_refused_and_audited(
    store: Store, charter: Charter, person: str, scope: Scope, until: int, error: type, field: str
) -> None:
    with pytest.raises(error) as info:
        ask(store, charter, person, scope, day(until))
    assert info.value.field == field
    assert [e.outcome for e in entries(store)] == ["refused"]


def test_only_the_lead_approves_and_never_their_own_access(store: Store, charter: Charter) -> None:
    g = ask(store, charter, "cy", Scope("component", "api"), day(5))
    with pytest.raises(PermissionDeniedError, match="only ana"):
        approve_grant(store, charter, g.id, actor=actor("vic"), today=TODAY)
    with pytest.raises(PermissionDeniedError):
        approve_grant(store, charter, g.id, actor=actor(None), today=TODAY)
    own = ask(store, charter, "vic", Scope("component", "web"), day(5), by="vic")
    assert own.approver == "ana"  # vic leads web's organisation: the internal lead approves instead
    with pytest.raises(PermissionDeniedError):
        approve_grant(store, charter, own.id, actor=actor("vic"), today=TODAY)
    refused = [(e.action, e.actor.person) for e in entries(store) if e.outcome == "refused"]
    assert refused == [("access.grant.approve", "vic"), ("access.grant.approve", None), ("access.grant.approve", "vic")]
    with store.read() as conn:
        assert {x.status for x in list_grants(conn)} == {"pending"}


def test_approval_rechecks_the_contract(store: Store) -> None:
    g = ask(store, parse_charter(charter_text(TODAY, cy_end=10)), "cy", Scope("component", "api"), day(9))
    shorter = parse_charter(charter_text(TODAY, cy_end=3))  # the contract was cut while the request waited
    with pytest.raises(UsageError, match=str(day(3))):
        approve_grant(store, shorter, g.id, actor=actor("ana"), today=TODAY)


def test_revoke(store: Store, charter: Charter) -> None:
    g = ask(store, charter, "bo", Scope("environment", "production"), day(30), level="read")
    approve_grant(store, charter, g.id, actor=actor("ana"), today=TODAY)
    done = revoke_grant(store, g.id, actor=actor("bo"), reason="done with it")
    assert (done.status, done.end_reason, done.ended_by) == ("revoked", "done with it", "bo")
    with pytest.raises(UsageError, match="already revoked"):
        revoke_grant(store, g.id, actor=actor("bo"))
    with pytest.raises(NotFoundError):
        revoke_grant(store, 999, actor=actor("bo"))
    assert [e.action for e in entries(store)][-3:] == ["access.grant.revoke"] * 3


def test_a_duplicate_request_is_refused(store: Store, charter: Charter) -> None:
    g = ask(store, charter, "bo", Scope("component", "api"), day(30))
    with pytest.raises(UsageError, match=f"#{g.id}"):
        ask(store, charter, "bo", Scope("component", "api"), day(20), level="read")
    assert ask(store, charter, "bo", Scope("component", "api"), day(40)).id != g.id  # longer: a new request


# --- the sweep -------------------------------------------------------------------------------------------


def test_no_grant_outlives_a_contract_moved_earlier(store: Store) -> None:
    charter = parse_charter(charter_text(TODAY, cy_end=60))
    g = ask(store, charter, "cy", Scope("component", "api"), day(50))
    approve_grant(store, charter, g.id, actor=actor("ana"), today=TODAY)
    # The contract end is moved earlier in the charter after the grant: the sweep shortens the grant ...
    moved = parse_charter(charter_text(TODAY, cy_end=20))
    result = sweep(store, moved, "shop", today=TODAY)
    [(shorter, former)] = result.curtailed
    assert (shorter.ends_on, former) == (day(20), day(50))
    # ... warns as its end nears ...
    assert sweep(store, moved, "shop", today=day(10)).warnings[0].id == g.id
    assert sweep(store, moved, "shop", today=day(11)).warnings == []  # once
    # ... and when the contract is then ended early, revokes it and says why.
    ended = parse_charter(charter_text(TODAY, cy_end=12))
    result = sweep(store, ended, "shop", today=day(13))
    assert [(x.id, x.status, x.end_reason) for x in result.revoked] == [
        (g.id, "revoked", f"cy's contract ended on {day(12)}")
    ]
    log = [(e.action, e.actor.via, e.actor.person) for e in entries(store)]
    assert log[2:] == [
        ("access.grant.curtail", "job", None),
        ("access.grant.warn", "job", None),
        ("access.grant.revoke", "job", None),
    ]
    assert entries(store)[-1].payload_data()["end_reason"] == f"cy's contract ended on {day(12)}"


def test_the_sweep_expires_ended_grants_and_lapsed_requests(store: Store, charter: Charter) -> None:
    a = ask(store, charter, "bo", Scope("component", "api"), day(3))
    approve_grant(store, charter, a.id, actor=actor("ana"), today=TODAY)
    b = ask(store, charter, "bo", Scope("environment", "staging"), day(2))
    result = sweep(store, charter, "shop", today=day(4))
    assert sorted((g.id, g.end_reason) for g in result.expired) == [
        (a.id, f"ended on {day(3)}"),
        (b.id, f"request lapsed on {day(2)}"),
    ]
    assert sweep(store, charter, "shop", today=day(4)).changed == 0


def test_a_person_removed_from_the_charter_loses_access(store: Store, charter: Charter) -> None:
    g = ask(store, charter, "bo", Scope("component", "api"), day(30))
    approve_grant(store, charter, g.id, actor=actor("ana"), today=TODAY)
    text = charter_text(TODAY).replace('[people.bo]\nname = "Bo Dev"', '[people.bob]\nname = "Bo Dev"')
    without = parse_charter(text.replace('responsible = ["bo", "cy"]', 'responsible = ["bob", "cy"]'))
    assert sweep(store, without, "shop", today=TODAY).revoked[0].end_reason == "bo is no longer in the charter"


# --- the plan --------------------------------------------------------------------------------------------

GITHUB_EXPORT = [
    {"login": "ana-gh", "role_name": "admin"},
    {"login": "Bo", "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True}},
    {"login": "cy", "role_name": "write"},
    {"login": "old", "role_name": "write"},
    {"login": "stranger", "role_name": "read"},
    {"login": "pat", "role_name": "admin"},
]


def test_plan_against_a_github_export(store: Store, charter, tmp_path: Path) -> None:
    export = tmp_path / "collaborators.json"
    export.write_text(json.dumps(GITHUB_EXPORT))
    plan = plan_access(charter, read_holdings(export), [], repository="shop", today=TODAY, source="export")
    steps = {(s.action, s.login): s for s in plan.steps}
    assert set(steps) == {
        ("keep", "ana-gh"),
        ("keep", "Bo"),
        ("keep", "cy"),
        ("revoke", "old"),
        ("revoke", "stranger"),
        ("lower", "pat"),
        ("add", "vic"),
    }
    assert steps["revoke", "old"].reason == f"contract ended on {day(-10)}"
    assert steps["revoke", "stranger"].reason == "unknown person: stranger is not in the charter"
    assert steps["lower", "pat"].target == "write"  # a partner is never admin
    assert steps["add", "vic"].target == "write" and "accountable for web" in steps["add", "vic"].reason
    assert [(s.login, s.until) for s in plan.expiring] == [("cy", day(10))]


def test_plan_no_role_and_a_grant_count(store: Store, charter: Charter) -> None:
    from onebar.access.plan import Holding

    text = charter_text(TODAY) + '\n[people.zed]\nname = "Zed"\norg = "acme"\ngithub = "zed"\n'
    charter = parse_charter(text)
    plan = plan_access(charter, [Holding("zed", "read")], [], repository="shop", today=TODAY, source="x")
    assert [(s.action, s.reason) for s in plan.steps if s.login == "zed"] == [("revoke", "no role in any component")]
    g = ask(store, charter, "zed", Scope("repository", "shop"), day(3), level="read")
    approve_grant(store, charter, g.id, actor=actor("ana"), today=TODAY)
    with store.read() as conn:
        grants = list_grants(conn, statuses=("approved",))
    plan = plan_access(charter, [Holding("zed", "read")], grants, repository="shop", today=TODAY, source="x")
    [zed] = [s for s in plan.steps if s.login == "zed"]
    assert (zed.action, zed.until) == ("keep", day(3)) and f"grant #{g.id}" in zed.reason
    assert any(s.login == "zed" for s in plan.expiring)


def test_plan_reads_gitlab_members(tmp_path: Path, charter: Charter) -> None:
    export = tmp_path / "members.json"
    members = [{"username": "bo", "access_level": 50}, {"username": "x", "access_level": 20}]
    export.write_text(json.dumps({"members": members}))
    held = read_holdings(export)
    assert [(h.login, h.level) for h in held] == [("bo", "admin"), ("x", "read")]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"username": "bo", "access_level": 7}]))
    with pytest.raises(UsageError, match=r"bad.json\[0\]: unknown GitLab access_level 7"):
        read_holdings(bad)


# --- the CLI ---------------------------------------------------------------------------------------------


@pytest.fixture
def shop(repo: GitRepo) -> GitRepo:
    return shop_repo(repo, TODAY)


def cli(store_url: str, *args: str) -> Result:
    return run_cli("access", *args, "--db", store_url)


def test_cli_request_refused_past_contract_exit_2(shop: GitRepo, store_url: str) -> None:
    p = str(shop.path)
    result = cli(store_url, "request", "cy", p, "--component", "api", "--until", str(day(40)), "--as", "bo")
    assert result.exit_code == 2
    assert f"--until: the grant would end on {day(40)}, after cy's contract ends on {day(10)}" in result.stderr


def test_cli_request_approve_list_revoke(shop: GitRepo, store_url: str) -> None:
    p = str(shop.path)
    assert cli(store_url, "request", "cy", p, "--until", str(day(5))).exit_code == 2  # no scope
    req = cli(store_url, "request", "cy", p, "--component", "web", "--until", str(day(5)), "--level", "write",
              "--reason", "checkout redesign", "--as", "bo", "--format", "json")  # fmt: skip
    assert req.exit_code == 0, req.stderr
    gid = json.loads(req.stdout)["id"]
    denied = cli(store_url, "approve", str(gid), p, "--as", "ana")
    assert denied.exit_code == 2 and "only vic" in denied.stderr
    ok = cli(store_url, "approve", str(gid), p, "--as", "vic")
    assert ok.exit_code == 0 and f"approved grant #{gid}" in ok.stdout
    listed = cli(store_url, "list", p)
    assert "cy" in listed.stdout and "approved" in listed.stdout and "checkout redesign" in listed.stdout
    md = cli(store_url, "list", p, "--format", "md")
    assert md.stdout.startswith("| grant | person |")
    assert cli(store_url, "revoke", str(gid), p, "--reason", "left early").exit_code == 0
    assert "no grants" in cli(store_url, "list", p).stdout
    assert "left early" in cli(store_url, "list", p, "--all").stdout
    log = run_cli("audit", "list", "--db", store_url, "--action", "access")
    assert [line.split(": ", 1)[1] for line in log.stdout.splitlines()] == [
        f"access.grant.request grant:{gid}",
        f"access.grant.approve grant:{gid} [refused]",
        f"access.grant.approve grant:{gid}",
        f"access.grant.revoke grant:{gid}",
    ]


def test_cli_actor_comes_from_git_config(shop: GitRepo, store_url: str) -> None:
    shop.git("config", "user.email", "ana@acme.test")
    req = cli(store_url, "request", "bo", str(shop.path), "--repo", shop.path.name, "--until", str(day(5)))
    assert req.exit_code == 0, req.stderr
    assert cli(store_url, "approve", "1", str(shop.path)).exit_code == 0  # ana, from user.email
    log = json.loads(run_cli("audit", "list", "--db", store_url, "--format", "json").stdout)
    assert [e["actor"]["person"] for e in log] == ["ana", "ana"]


def test_cli_plan_formats(shop: GitRepo, store_url: str, tmp_path: Path) -> None:
    export = tmp_path / "c.json"
    export.write_text(json.dumps(GITHUB_EXPORT))
    text = cli(store_url, "plan", str(shop.path), "--from", str(export))
    assert text.exit_code == 0
    assert "revoke write" in text.stdout and f"contract ended on {day(-10)}" in text.stdout
    assert "expiring soon (1):" in text.stdout
    data = json.loads(cli(store_url, "plan", str(shop.path), "--from", str(export), "--format", "json").stdout)
    assert {s["login"] for s in data["revoke"]} == {"old", "stranger", "pat"}
    assert [s["login"] for s in data["add"]] == ["vic"]
    md = cli(store_url, "plan", str(shop.path), "--from", str(export), "--format", "md").stdout
    assert "## Revoke (3)" in md and "| stranger |" in md
    export.write_text("{not json")
    bad = cli(store_url, "plan", str(shop.path), "--from", str(export))
    assert bad.exit_code == 2 and "--from" in bad.stderr and "not JSON" in bad.stderr


def test_cli_review_and_sign_off(shop: GitRepo, store_url: str) -> None:
    p = str(shop.path)
    review = cli(store_url, "review", p, "--format", "json")
    assert review.exit_code == 0, review.stderr
    data = json.loads(review.stdout)
    orgs = {o["org"]: o for o in data["organisations"]}
    assert orgs["vendor"]["state"] == "awaiting sign-off" and orgs["vendor"]["lead"] == "vic"
    cy = next(r for r in orgs["vendor"]["rows"] if r["person"] == "cy")
    assert cy["level"] == "write" and "responsible for api" in cy["why"]
    assert cy["until"] == str(day(10)) and "ends in 10 days" in cy["flags"]
    assert any("outside the contract window" in f for f in cy["flags"])  # committed before the contract started
    assert cy["last_activity"] is not None
    assert "old" not in {r["person"] for r in orgs["vendor"]["rows"]}  # contract over: no access
    denied = cli(store_url, "review", p, "--sign", "vendor", "--as", "cy")
    assert denied.exit_code == 2 and "only vic" in denied.stderr
    signed = cli(store_url, "review", p, "--sign", "vendor", "--as", "vic", "--note", "all fine")
    assert signed.exit_code == 0 and "vendor: 2 with access, signed off" in signed.stdout
    # A grant approved after the sign-off changes vendor's part: the sign-off no longer covers it.
    cli(store_url, "request", "cy", p, "--environment", "staging", "--until", str(day(5)), "--as", "cy")
    assert cli(store_url, "approve", "1", p, "--as", "ana").exit_code == 0
    after = cli(store_url, "review", p, "--format", "md").stdout
    assert "## vendor: changed since sign-off" in after
    actions = json.loads(run_cli("audit", "list", "--db", store_url, "--format", "json").stdout)
    assert [(e["action"], e["outcome"]) for e in actions][:2] == [
        ("access.review.signoff", "refused"),
        ("access.review.signoff", "success"),
    ]


def test_cli_sweep(shop: GitRepo, store_url: str) -> None:
    p = str(shop.path)
    cli(store_url, "request", "bo", p, "--component", "api", "--until", str(day(3)), "--as", "bo")
    cli(store_url, "approve", "1", p, "--as", "ana")
    out = cli(store_url, "sweep", p, "--format", "json")
    assert json.loads(out.stdout)["warnings"][0]["id"] == 1
