"""Who may do what: API tokens and browser sessions, roles, the access matrix and the visibility policy.

roles.MATRIX                         every endpoint x every role: full, scoped, own or deny
tokens.create_token / authenticate   tokens shown once, stored hashed, revocable, expiring
sessions.start_session               a token exchanged for a cookie, with CSRF
visibility.filter_report             what a lead or member may see of a report (pure)
trail.audit                          the seam every refusal and change of state goes through
"""

from onebar.auth.roles import MATRIX, Access, Principal, Role, authorize

__all__ = ["MATRIX", "Access", "Principal", "Role", "authorize"]
