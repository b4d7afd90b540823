"""draft_done: the definition of done `onebar init` writes, guessed from the tree."""

from __future__ import annotations

from onebar.charter import Charter, parse_charter
from onebar.charter.done import DefinitionOfDone
from onebar.charter.done_draft import draft_done


def test_src_layout() -> None:
    done = draft_done(["src/pkg/__init__.py", "src/pkg/a.py", "tests/test_a.py", "docs/index.md", "README.md"])
    assert done.tests.code == ["src/**"]
    assert done.tests.tests[0] == "tests/**"
    assert done.docs.docs[0] == "docs/**"
    assert all(getattr(done, r).enabled for r in ("tests", "docs", "coverage", "findings", "secrets", "reviews"))
    assert done.coverage.min_total == 80


def test_flat_package_layout_and_go() -> None:
    done = draft_done(
        [
            "mypkg/__init__.py",
            "mypkg/core.py",
            "test/test_core.py",
            "scripts/x/__init__.py",
            "cmd/tool/main.go",
            "internal/x/y.go",
            "setup.py",
        ]
    )
    assert done.tests.code == ["cmd/**", "internal/**", "mypkg/**"]
    assert done.tests.tests[0] == "test/**"


def test_empty_tree_falls_back_to_defaults_and_round_trips_through_the_charter() -> None:
    done = draft_done([])
    assert done.tests.code == ["src/**"]
    # the charter must accept what init writes
    assert Charter.model_validate({"done": done.model_dump(mode="json")}).done == done
    assert parse_charter("", "onebar.toml").done == DefinitionOfDone()
