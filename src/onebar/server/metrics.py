"""Prometheus metrics (prometheus_client), one registry per app: nothing global, nothing at import time.

Process metrics (request latency, job outcomes, ingest durations) are counted where they happen.
Store metrics (DORA figures per repository and organisation, queue depth, report age) are read from
the store at scrape time by a collector, so every process of a deployment reports the same values.
Names and labels: docs/service.md, "Metrics".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from onebar.store import Store

TIER_LEVEL = {"elite": 4, "high": 3, "medium": 2, "low": 1}
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800)


class Metrics:
    def __init__(self, store: Callable[[], Store | None]):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Histogram(
            "onebar_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs_total = Counter(
            "onebar_jobs_finished_total",
            "Jobs this process finished, by kind and outcome (done, queued again, failed, lost).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.durations = Histogram(
            "onebar_job_step_duration_seconds",
            "Time of one step of a job (fetch, ingest, refresh) per repository.",
            ["step", "repo"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.webhooks = Counter(
            "onebar_webhook_deliveries",
            "Webhook deliveries received, by host and outcome (accepted, duplicate, rejected, invalid).",
            ["host", "outcome"],
            registry=self.registry,
        )
        self.registry.register(StoreCollector(store))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).observe(seconds)

    def observe_step(self, step: str, repo: str, seconds: float) -> None:
        self.durations.labels(step, repo).observe(seconds)

    def job_outcome(self, kind: str, outcome: str) -> None:
        self.jobs_total.labels(kind, outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StoreCollector(Collector):
    """DORA gauges, queue depth and report age, read from the store when Prometheus scrapes."""

    def __init__(self, store: Callable[[], Store | None]):
        self.store = store

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only: no store access at registration

    def collect(self) -> Iterator[Metric]:
        store = self.store()
        if store is None:
            return
        from onebar.jobs.queue import depth
        from onebar.repos import materialised

        queue = GaugeMetricFamily("onebar_jobs", "Jobs in the queue by status.", labels=["status"])
        for status, n in depth(store).items():
            queue.add_metric([status], n)
        yield queue

        labels = ["repo", "org"]
        families = {
            "deployments": GaugeMetricFamily(
                "onebar_dora_deployments",
                "Deployments in the report window (org 'all': the whole repository).",
                labels=labels,
            ),
            "frequency": GaugeMetricFamily(
                "onebar_dora_deployment_frequency_per_week", "Deployments per week in the report window.", labels=labels
            ),
            "lead": GaugeMetricFamily(
                "onebar_dora_lead_time_hours", "Lead time for changes (median), hours.", labels=labels
            ),
            "cfr": GaugeMetricFamily("onebar_dora_change_failure_rate", "Change failure rate (0-1).", labels=labels),
            "ttr": GaugeMetricFamily(
                "onebar_dora_time_to_restore_hours", "Time to restore service (median), hours.", labels=labels
            ),
            "tier": GaugeMetricFamily(
                "onebar_dora_tier_level", "Overall DORA tier: 4 elite, 3 high, 2 medium, 1 low.", labels=labels
            ),
        }
        age = GaugeMetricFamily(
            "onebar_report_age_seconds", "Seconds since the materialised report was computed.", labels=["repo"]
        )
        now = time.time()
        for header in materialised.headers(store):
            age.add_metric([header.repo], now - header.computed_at)
        for repo, (_etag, summary) in sorted(materialised.summaries(store).items()):
            rows = [("all", summary.get("overall", {})), *sorted(summary.get("by_org", {}).items())]
            for org, fig in rows:
                _add(families, repo, org, fig)
        yield from families.values()
        yield age


def _add(families: dict[str, GaugeMetricFamily], repo: str, org: str, fig: dict[str, Any]) -> None:
    def put(name: str, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            families[name].add_metric([repo, org], float(value))

    put("deployments", fig.get("deployments"))
    put("frequency", fig.get("deployment_frequency_per_week"))
    put("lead", (fig.get("lead_time_hours") or {}).get("median"))
    put("cfr", fig.get("change_failure_rate"))
    put("ttr", (fig.get("time_to_restore_hours") or {}).get("median"))
    tier = fig.get("tier")
    if isinstance(tier, dict):
        tier = tier.get("overall")
    if isinstance(tier, str) and tier in TIER_LEVEL:
        put("tier", TIER_LEVEL[tier])
