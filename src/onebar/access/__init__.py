"""Access tied to contracts: grants with request, approval, revocation and expiry, the plan against
the code host, and the periodic review. Every change and every refusal goes to the audit log.

    request_grant(store, charter, repo, person=..., scope=Scope("component", "api"), until=..., actor=..., today=...)
    approve_grant(store, charter, grant_id, actor=..., today=...)      # the owning organisation's lead only
    revoke_grant(store, grant_id, actor=..., reason=...)
    sweep(store, charter, repo, today=...)                              # the service's scheduled job
    plan_access(charter, holdings, grants, repository=..., today=..., source=...)
    build_review(conn, charter, repo, today=..., activity=...); sign_review(...)
"""

from onebar.access.grants import approve_grant, get_grant, list_grants, request_grant, revoke_grant
from onebar.access.model import LEVELS, SCOPE_KINDS, Grant, Scope
from onebar.access.plan import Holding, Plan, desired, plan_access, read_holdings
from onebar.access.review import Activity, Review, activity_from_store, build_review, sign_review
from onebar.access.sweep import SweepResult, expiring, sweep

__all__ = [
    "LEVELS",
    "SCOPE_KINDS",
    "Activity",
    "Grant",
    "Holding",
    "Plan",
    "Review",
    "Scope",
    "SweepResult",
    "activity_from_store",
    "approve_grant",
    "build_review",
    "desired",
    "expiring",
    "get_grant",
    "list_grants",
    "plan_access",
    "read_holdings",
    "request_grant",
    "revoke_grant",
    "sign_review",
    "sweep",
]
