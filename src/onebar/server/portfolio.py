"""The portfolio: each organisation's DORA figures across every repository, from the reports' summaries.

Pure: summaries in (already filtered for the caller), the portfolio out. Totals are exact where
figures add up (deployments, changes, deployments per week); a rate is weighted by deployments;
medians do not combine, so the portfolio shows each repository's median and the median of them.
"""

from __future__ import annotations

from statistics import median
from typing import Any

TIER_ORDER = ("low", "medium", "high", "elite")


def portfolio(summaries: dict[str, dict[str, Any]], repos: list[str], *, only: str | None = None) -> dict[str, Any]:
    orgs: dict[str, dict[str, Any]] = {}
    for repo in sorted(summaries):
        s = summaries[repo]
        for org, fig in s.get("by_org", {}).items():
            if only is not None and org != only:
                continue
            info = s.get("organisations", {}).get(org, {})
            entry = orgs.setdefault(org, {"name": info.get("name") or org, "kind": info.get("kind"), "repos": {}})
            entry["repos"][repo] = _brief(fig)
    for entry in orgs.values():
        entry["totals"] = _totals(list(entry["repos"].values()))
    overall = {repo: _brief(s["overall"]) for repo, s in sorted(summaries.items()) if "overall" in s}
    return {
        "window": "the default report window of each repository: the last 90 days of its history",
        "repositories": sorted(repos),
        "reported": sorted(summaries),
        "overall": {"repos": overall, "totals": _totals(list(overall.values()))},
        "organisations": dict(sorted(orgs.items(), key=lambda kv: (-kv[1]["totals"]["changes"], kv[0]))),
    }


def _brief(fig: dict[str, Any]) -> dict[str, Any]:
    return {
        "deployments": fig.get("deployments", 0),
        "changes": fig.get("changes", 0),
        "deployment_frequency_per_week": fig.get("deployment_frequency_per_week"),
        "lead_time_hours": (fig.get("lead_time_hours") or {}).get("median"),
        "change_failure_rate": fig.get("change_failure_rate"),
        "time_to_restore_hours": (fig.get("time_to_restore_hours") or {}).get("median"),
        "tier": fig.get("tier"),
        "tiers": fig.get("tiers"),
    }


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    deployments = sum(r["deployments"] or 0 for r in rows)
    rated = [(r["change_failure_rate"], r["deployments"] or 0) for r in rows if r["change_failure_rate"] is not None]
    weight = sum(w for _, w in rated)
    leads = [r["lead_time_hours"] for r in rows if r["lead_time_hours"] is not None]
    restores = [r["time_to_restore_hours"] for r in rows if r["time_to_restore_hours"] is not None]
    freqs = [r["deployment_frequency_per_week"] for r in rows if r["deployment_frequency_per_week"] is not None]
    tiers = [r["tier"] for r in rows if r["tier"] in TIER_ORDER]
    return {
        "repos": len(rows),
        "deployments": deployments,
        "changes": sum(r["changes"] or 0 for r in rows),
        "deployment_frequency_per_week": round(sum(freqs), 3) if freqs else None,
        "change_failure_rate": round(sum(c * w for c, w in rated) / weight, 4) if weight else None,
        "lead_time_hours_median_of_repos": round(median(leads), 2) if leads else None,
        "time_to_restore_hours_median_of_repos": round(median(restores), 2) if restores else None,
        "weakest_tier": min(tiers, key=TIER_ORDER.index) if tiers else None,
    }
