"""A charter with an internal team, a contractor with a lead and a partner without one; dates relative to a day."""

from __future__ import annotations

from datetime import date, timedelta

from helpers import GitRepo


def charter_text(today: date, *, cy_end: int = 10, vic_end: int = 200, old_end: int = -10) -> str:
    def d(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    return f"""
[project]
name = "shop"

[organisations.acme]
kind = "internal"
lead = "ana"
domains = ["acme.test"]

[organisations.vendor]
kind = "contractor"
lead = "vic"
domains = ["vendor.test"]

[organisations.partner]
kind = "partner"
domains = ["partner.test"]

[people.ana]
name = "Ana Lead"
org = "acme"
emails = ["ana@acme.test"]
github = "ana-gh"

[people.bo]
name = "Bo Dev"
org = "acme"
emails = ["bo@acme.test"]
github = "bo"

[people.vic]
name = "Vic Vendor"
org = "vendor"
emails = ["vic@vendor.test"]
github = "vic"
contract_end = {d(vic_end)}

[people.cy]
name = "Cy Contract"
org = "vendor"
emails = ["cy@vendor.test"]
github = "cy"
contract_start = {d(-100)}
contract_end = {d(cy_end)}

[people.old]
name = "Old Timer"
org = "vendor"
emails = ["old@vendor.test"]
github = "old"
contract_end = {d(old_end)}

[people.pat]
name = "Pat Partner"
org = "partner"
emails = ["pat@partner.test"]
github = "pat"

[components.api]
paths = ["api/**"]
accountable = "ana"
responsible = ["bo", "cy"]
consulted = ["vic"]

[components.web]
paths = ["web/**"]
accountable = "vic"
responsible = ["cy"]

[components.docs]
paths = ["docs/**"]
accountable = "pat"
"""


def shop_repo(repo: GitRepo, today: date, **dates: int) -> GitRepo:
    """The repository with the charter committed, and commits by bo, cy and old."""
    repo.write({"onebar.toml": charter_text(today, **dates)})
    repo.commit("charter", {"README.md": "shop\n"}, author=("Ana Lead", "ana@acme.test"))
    repo.commit("api", {"api/a.py": "x = 1\n"}, author=("Bo Dev", "bo@acme.test"))
    repo.commit("web", {"web/w.js": "1\n"}, author=("Cy Contract", "cy@vendor.test"))
    repo.commit("api 2", {"api/b.py": "y = 2\n"}, author=("Old Timer", "old@vendor.test"))
    return repo
