"""`onebar init` on real-looking histories: organisations, the home team, robots, zones, components."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from helpers import GitRepo, run_cli
from onebar.charter import Charter, load_charter
from onebar.charter.done_draft import draft_done
from onebar.charter.draft import draft_charter, draft_from_identities
from onebar.charter.layout import product_folders
from onebar.charter.zones import draft_zone
from onebar.gate.match import matches
from onebar.mining.ingest import ingest_repository
from onebar.store import open_store


def _org_of(charter: Charter, email: str) -> str:
    return next(p.org for p in charter.people.values() if email in p.emails)


def _orgs(charter: Charter) -> set[str]:
    return set(charter.organisations)


@pytest.mark.parametrize(
    "email",
    [
        "jo@hotmail.fr",
        "jo@gmx.at",
        "jo@yahoo.de",
        "jo@protonmail.ch",
        "jo@mailbox.org",
        "jo@macbook.local",
        "jo@fnd-oda.(none)",
        "jo@localhost",
        "jo@192.168.1.7",
        "jo@users.noreply.github.com",
        "12+jo@users.noreply.github.com",
        "jo@mailinator.com",  # disposable
    ],
)
def test_free_mail_host_names_and_forges_are_never_companies(email: str) -> None:
    idents = [("Jo Public", email, 40), ("Al Other", email.replace("jo@", "al@").replace("+jo@", "+al@"), 40)]
    charter = draft_from_identities([*idents, ("Main Author", "main@gmail.com", 200)], name="proj")
    assert _org_of(charter, email) in ("independent", "proj")
    assert _orgs(charter) <= {"independent", "proj"}


def test_one_person_domains_fold_into_independent_unless_they_look_like_a_firm() -> None:
    charter = draft_from_identities(
        [
            ("Main Author", "main@gmail.com", 500),
            ("Occasional Olga", "olga@northwind.com", 2),  # one occasional committer: independent
            ("Thomas Waldmann", "tw@waldmann-edv.de", 3),  # own firm (a business word): an organisation
            ("Kenneth Reitz", "me@kennethreitz.org", 60),  # a personal domain, however active
            ("Regular Rita", "rita@quietcompany.io", 25),  # a regular committer from a company domain
            ("Ann One", "ann@twoco.com", 1),  # two people: a company stands behind the domain
            ("Ben Two", "ben@eu.twoco.com", 1),
            ("Forced Fay", "fay@forced.example", 1),
        ],
        org_domains=["forced.example"],
        name="proj",
    )
    assert _org_of(charter, "olga@northwind.com") == "independent"
    assert _org_of(charter, "tw@waldmann-edv.de") == "waldmann-edv"
    assert _org_of(charter, "me@kennethreitz.org") == "independent"
    assert _org_of(charter, "rita@quietcompany.io") == "quietcompany"
    assert _org_of(charter, "ann@twoco.com") == _org_of(charter, "ben@eu.twoco.com") == "twoco"
    assert charter.organisations["twoco"].domains == ["twoco.com"]  # sub-domains fold into one
    assert _org_of(charter, "fay@forced.example") == "forced"
    assert charter.organisations["independent"].kind == "contractor"


def test_sub_domains_of_one_company_are_one_organisation() -> None:
    charter = draft_from_identities(
        [
            ("Lead", "lead@gmail.com", 900),
            ("Brant K", "bk@us.ibm.com", 90),
            ("Henry N", "hn@linux.vnet.ibm.com", 80),
            ("Steve M", "sm@ca.ibm.com", 70),
        ],
        name="keystone",
    )
    assert _org_of(charter, "bk@us.ibm.com") == _org_of(charter, "hn@linux.vnet.ibm.com") == "ibm"
    assert charter.organisations["ibm"].domains == ["ibm.com"]
    assert charter.organisations["ibm"].lead is not None


def test_home_is_the_people_who_carry_the_project() -> None:
    """flask-like: the creator on his own firm's domain, a maintainer on gmail, a merger; not 500 others."""
    idents = [
        ("Armin R", "armin@active-4.com", 1000),
        ("David L", "davidism@gmail.com", 800),
        ("Markus U", "markus@unterwaditzer.net", 130),
        ("Ron D", "ron@redhat.com", 90),
        ("Rhea H", "rhea@redhat.com", 5),
    ]
    idents += [(f"Drive By {i}", f"user{i}@gmail.com", 1) for i in range(50)]
    charter = draft_from_identities(idents, merges={"markus@unterwaditzer.net": 40}, name="flask")
    home = charter.organisations["flask"]
    assert home.kind == "internal"
    members = {p.emails[0] for p in charter.people.values() if p.org == "flask"}
    assert members == {"armin@active-4.com", "davidism@gmail.com", "markus@unterwaditzer.net"}
    assert home.lead == next(pid for pid, p in charter.people.items() if "armin@active-4.com" in p.emails)
    assert "active-4" not in charter.organisations  # a firm of one carrier is that carrier
    assert _org_of(charter, "ron@redhat.com") == "redhat"
    assert _org_of(charter, "user7@gmail.com") == "independent"


def test_home_is_the_company_when_its_people_carry_the_project() -> None:
    charter = draft_from_identities(
        [
            ("A One", "a@acme.test", 300),
            ("B Two", "b@acme.test", 250),
            ("C Three", "c@globex.test", 120),
            ("D Four", "d@globex.test", 20),
        ],
        name="shop",
    )
    assert charter.organisations["acme"].kind == "internal"
    assert charter.organisations["acme"].domains == ["acme.test"]
    assert charter.organisations["globex"].kind == "partner"
    assert "shop" not in charter.organisations


def test_robots_are_bots_and_lead_nothing() -> None:
    charter = draft_from_identities(
        [
            ("Dolph M", "dolph@gmail.com", 700),
            ("OpenStack Proposal Bot", "openstack-infra@lists.openstack.org", 420),
            ("Jenkins", "jenkins@review.openstack.org", 0),
            ("Zuul", "zuul@review.opendev.org", 0),
            ("Gerrit Code Review", "review@openstack.org", 0),
            ("Thierry C", "ttx@openstack.org", 30),
            ("Anne G", "anne@openstack.org", 20),
        ],
        name="keystone",
    )
    for email in (
        "openstack-infra@lists.openstack.org",
        "jenkins@review.openstack.org",
        "zuul@review.opendev.org",
        "review@openstack.org",
    ):
        assert _org_of(charter, email) == "bots"
    assert charter.organisations["bots"].kind == "bot"
    assert charter.organisations["bots"].lead is None
    assert charter.organisations["openstack"].lead not in {pid for pid, p in charter.people.items() if p.org == "bots"}


def test_empty_emails_are_people_of_their_own() -> None:
    charter = draft_from_identities([("Ann Smith", "", 5), ("Bob Jones", "", 3), ("Ann Smith", "ann@x.test", 1)])
    names = sorted(p.name for p in charter.people.values())
    assert names == ["Ann Smith", "Bob Jones"]  # not merged into one person by their shared empty e-mail


def _day(y: int, m: int, d: int) -> int:
    return int(datetime(y, m, d, tzinfo=UTC).timestamp()) // 86400


def test_zones_with_a_seasonal_switch_are_real_iana_zones() -> None:
    berlin = Counter({(60, _day(2025, 1, 10)): 8, (120, _day(2025, 7, 10)): 20, (60, _day(2025, 11, 20)): 4})
    assert draft_zone(berlin) == "Europe/Berlin"
    new_york = Counter({(-300, _day(2025, 2, 3)): 6, (-240, _day(2025, 6, 3)): 6})
    assert draft_zone(new_york) == "America/New_York"
    sydney = Counter({(660, _day(2025, 1, 10)): 5, (600, _day(2025, 7, 10)): 5})
    assert draft_zone(sydney) == "Australia/Sydney"
    fixed = Counter({(120, _day(2025, 1, 10)): 5, (120, _day(2025, 7, 10)): 5})
    assert draft_zone(fixed) == "Etc/GMT-2"
    # Two offsets that do not follow the seasons (a trip, a move) are no daylight saving.
    travel = Counter({(120, _day(2025, 1, 10)): 9, (60, _day(2025, 1, 12)): 3, (120, _day(2025, 7, 1)): 9})
    assert draft_zone(travel) == "Etc/GMT-2"
    assert draft_zone(Counter({(330, 1): 3})) == "Asia/Kolkata"


def _votes(paths: list[str], who: str) -> dict[str, Counter[str]]:
    """Every folder of `paths` recently changed by `who`, as draft_charter counts it."""
    out: dict[str, Counter[str]] = {}
    for p in paths:
        parts = p.split("/")
        for depth in range(1, len(parts)):
            out.setdefault("/".join(parts[:depth]), Counter())[who] += 1
    return out


KEYSTONE_TREE = [
    "keystone/__init__.py",
    "keystone/exception.py",
    "keystone/i18n.py",
    *(
        f"keystone/{pkg}/{mod}.py"
        for pkg in ("identity", "assignment", "auth", "token")
        for mod in ("core", "api", "x")
    ),
    "keystone/identity/backends/sql.py",
    "keystone/identity/backends/ldap.py",
    "keystone/identity/backends/base.py",
    "keystone/tests/unit/identity/test_core.py",
    "keystone/tests/unit/identity/test_backends.py",
    "keystone/tests/unit/ksfixtures/database.py",
    "keystone/tests/unit/config_files/backend_sql.conf",
    "keystone/tests/unit/test_v3.py",
    "keystone/tests/protection/v3/test_users.py",
    "keystone/locale/de/LC_MESSAGES/keystone.po",
    "doc/source/conf.py",
    "api-ref/source/conf.py",
    "releasenotes/notes/x.yaml",
    "tools/sample_data.sh",
    "setup.py",
]


def test_components_are_the_products_packages_with_their_tests() -> None:
    folders = product_folders(KEYSTONE_TREE)
    assert {"keystone/identity", "keystone/assignment", "keystone/auth", "keystone/token"} <= set(folders)
    assert not [f for f in folders if "tests" in f or "locale" in f or f.startswith(("doc", "api-ref", "tools"))]
    from onebar.charter.layout import draft_components

    comps = draft_components(KEYSTONE_TREE, _votes(KEYSTONE_TREE, "dolph"), {"dolph"})
    assert "keystone/tests/unit/identity/**" in comps["identity"].paths  # tests live with their component
    assert list(comps)[-1] == "tests"  # the rest of the tests: one component, listed last
    assert comps["tests"].paths == ["keystone/tests/**"]


def test_one_product_keeps_its_tests_and_maven_tests_mirror_main() -> None:
    flask = ["src/flask/__init__.py", "src/flask/app.py", "src/flask/json/__init__.py", "tests/test_app.py"]
    assert product_folders(flask) == ["src/flask"]
    maven = [
        "pom.xml",
        "src/main/java/com/acme/billing/Invoice.java",
        "src/main/java/com/acme/billing/Tax.java",
        "src/main/java/com/acme/search/Index.java",
        "src/test/java/com/acme/billing/InvoiceTest.java",
    ]
    folders = product_folders(maven)
    assert set(folders) == {"src/main/java/com/acme/billing", "src/main/java/com/acme/search"}
    from onebar.charter.layout import draft_components

    comps = draft_components(maven, _votes(maven, "ann"), {"ann"})
    assert "src/test/java/com/acme/billing/**" in comps["billing"].paths


@pytest.mark.parametrize(
    ("tree", "test_file", "code_file"),
    [
        (["pom.xml", "src/main/java/a/A.java"], "src/test/java/a/ATest.java", "src/main/java/a/A.java"),
        (
            ["build.gradle.kts", "app/src/main/kotlin/a/A.kt"],
            "app/src/test/kotlin/a/ATest.kt",
            "app/src/main/kotlin/a/A.kt",
        ),
        (["go.mod", "pkg/x/x.go"], "pkg/x/x_test.go", "pkg/x/x.go"),
        (["Cargo.toml", "src/lib.rs"], "tests/it.rs", "src/lib.rs"),
        (["package.json", "src/a.ts"], "src/__tests__/a.ts", "src/a.ts"),
        (["package.json", "src/a.ts"], "src/a.spec.ts", "src/a.ts"),
        (["App.sln", "src/App/A.cs"], "src/App.Tests/ATests.cs", "src/App/A.cs"),
        (["Gemfile", "lib/a.rb"], "spec/a_spec.rb", "lib/a.rb"),
        (["pyproject.toml", "src/pkg/a.py"], "src/pkg/tests/test_a.py", "src/pkg/a.py"),
    ],
)
def test_test_globs_for_the_big_ecosystems(tree: list[str], test_file: str, code_file: str) -> None:
    done = draft_done([*tree, test_file])
    assert matches(done.tests.tests, test_file)
    assert not matches(done.tests.tests, code_file)


def test_init_reads_every_identity_ingest_sees(repo: GitRepo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Merge authors, committers, empty e-mails and trailer names: nobody is unknown after init."""
    repo.commit("base", {"src/app/a.py": "1"}, author=("Main Dev", "main@acme.test"))
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit(
        "topic\n\nCo-authored-by: Pat Pair <pat@pairs.test>\nReviewed-by: Rev Iewer <rev@reviews.test>",
        {"src/app/b.py": "1"},
        author=("No Mail", ""),
        committer=("Applier Person", "applier@elsewhere.test"),
    )
    repo.git("checkout", "-q", "main")
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "topic",
        "-m",
        "Merge topic",
        env={
            "GIT_AUTHOR_NAME": "Merger Maintainer",
            "GIT_AUTHOR_EMAIL": "merger@maint.test",
            "GIT_COMMITTER_NAME": "GitHub",
            "GIT_COMMITTER_EMAIL": "noreply@github.com",
        },
    )
    assert run_cli("init", str(repo.path)).exit_code == 0
    charter = load_charter(repo.path)
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        summary = ingest_repository(repo.path, store, charter=charter)
    finally:
        store.close()
    assert summary.unknown_identities == []
    assert "No Mail" in {p.name for p in charter.people.values()}
    emails = {e for p in charter.people.values() for e in p.emails}
    assert {"merger@maint.test", "applier@elsewhere.test", "pat@pairs.test", "rev@reviews.test"} <= emails
    assert _org_of(charter, "noreply@github.com") == "bots"


def test_drafted_charter_of_a_real_repository_validates(repo: GitRepo) -> None:
    repo.commit("x", {"src/app/a.py": "1"}, author=("Ünïcode Ñame", "u@x.test"))
    charter = draft_charter(repo.path)
    Charter.model_validate(charter.model_dump())
