"""The report's code-host section, from an import against the loopback host to the figures."""

from __future__ import annotations

from fakehost import FakeHost, HostData, gh_commit, gh_deployment, gh_issue, gh_pull, gh_review, gh_status, github_repo
from onebar.charter.model import Charter
from onebar.codehost.backfill import import_repository
from onebar.codehost.github import GitHubAPI
from onebar.metrics.model import Window
from onebar.report.flow import load
from onebar.store import Store

T0 = 1_700_000_000
H = 3600
CHARTER = Charter.model_validate(
    {
        "organisations": {"acme": {"kind": "internal"}, "vendor": {"kind": "partner"}},
        "people": {
            "ines": {"name": "Ines", "org": "acme", "github": "ines-gh"},
            "vera": {"name": "Vera", "org": "vendor", "github": "vera-gh"},
        },
        "delivery": {"tracker_pattern": r"PAY-\d+"},
    }
)


def test_sections_say_plainly_when_there_is_no_code_host_data(store: Store) -> None:
    out = load(store, "shop", CHARTER).section(Window(T0, T0 + 10 * H)).to_json()
    assert out == {"available": False, "reason": out["reason"], "sources": []}
    assert "onebar import github" in out["reason"]


def test_sections_from_imported_pull_requests_reviews_deployments_and_incidents(store: Store) -> None:
    data = HostData()
    pulls = [
        gh_pull(1, "vera-gh", created=T0 + H, merged=T0 + 6 * H, body="Closes #40", merge_sha="1" * 40),
        gh_pull(
            2,
            "copilot-swe-agent[bot]",
            author_type="Bot",
            created=T0 + 2 * H,
            merged=T0 + 7 * H,
            assignees=("vera-gh",),
            title="PAY-9 refunds",
            merge_sha="2" * 40,
        ),
        gh_pull(3, "ines-gh", created=T0 + 3 * H, merged=T0 + 8 * H, title="tidy", merge_sha="3" * 40),
    ]
    reviews = {
        1: [
            gh_review(11, "ines-gh", "approved", T0 + 3 * H),
            gh_review(12, "dependabot[bot]", "approved", T0 + 2 * H, "Bot"),
        ],
        2: [gh_review(21, "ines-gh", "approved", T0 + 4 * H)],
        3: [
            gh_review(31, "vera-gh", "changes_requested", T0 + 4 * H),
            gh_review(32, "vera-gh", "approved", T0 + 5 * H),
        ],
    }
    commits = {n: [gh_commit(f"{n:040x}", T0)] for n in (1, 2, 3)}
    github_repo(data, "acme/shop", pulls, reviews, commits)
    data.lists["/repos/acme/shop/deployments"] = [gh_deployment(5, "3" * 40, T0 + 9 * H)]
    data.lists["/repos/acme/shop/deployments/5/statuses"] = [gh_status(1, "success", T0 + 10 * H)]
    data.lists["/repos/acme/shop/issues"] = [
        gh_issue(40, created=T0),
        gh_issue(41, created=T0 + 11 * H, closed=T0 + 13 * H, labels=("incident",), body="caused by #3"),
    ]
    with FakeHost(data) as host:
        import_repository(store, GitHubAPI.connect("test-token", host.url), "acme/shop")
    out = load(store, "shop", CHARTER).section(Window(T0, T0 + 100 * H)).to_json()
    assert out["available"] and out["sources"] == ["github:acme/shop"]
    lt = out["lead_time_stages"]
    assert lt["by_org"]["vendor"]["pickup"]["median"] == 2.0  # the bot's earlier approval does not count
    assert lt["overall"]["deploy"]["changes"] == 3
    rv = out["reviews"]
    assert rv["matrix"]["vendor"] == {"acme": 1} and rv["matrix"]["acme"] == {"vendor": 1}
    assert rv["by_org"]["acme"]["rework_cycles"] == 1
    f = out["failures"]
    assert f["by_org"]["acme"]["failed_deployments"] == 1 and f["by_org"]["vendor"]["failed_deployments"] == 0
    assert f["by_org"]["acme"]["time_to_restore_hours"]["median"] == 2.0
    b = out["backlog"]
    assert b["by_org"]["vendor"]["traced"] == 1 and [u["number"] for u in b["untraced"]] == [2, 3][1:]
    ag = out["agents"]["list"]
    assert len(ag) == 1 and ag[0]["agent"] == "copilot-swe-agent" and ag[0]["started_by"] == "vera"
    assert ag[0]["accountable_org"] == "vendor" and ag[0]["human_reviewers"] == ["ines"]
