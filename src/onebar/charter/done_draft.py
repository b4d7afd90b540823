"""A first definition of done guessed from a repository's file list, for `onebar init`.

Every rule is on with its defaults; only the paths are guessed: `src/` or top-level package folders
as code, `tests/` (or `test/`) as tests, `docs/` and Markdown as docs.
"""

from __future__ import annotations

from onebar.charter.done import DEFAULT_DOCS, DEFAULT_TESTS, DefinitionOfDone, DocsRule, TestsRule

# Folders that hold code by convention in other ecosystems (Go, Ruby, JavaScript, Rust).
_CODE_DIRS = ("src", "lib", "app", "pkg", "cmd", "internal")
_NOT_CODE = {
    "tests",
    "test",
    "docs",
    "doc",
    "examples",
    "scripts",
    "bench",
    "benchmarks",
    "build",
    "dist",
    "node_modules",
}


def draft_done(paths: list[str]) -> DefinitionOfDone:
    """Guess code/test/docs globs from repository-relative POSIX paths (e.g. `git ls-files`)."""
    tops: dict[str, set[str]] = {}
    for p in paths:
        head, _, rest = p.partition("/")
        if rest:
            tops.setdefault(head, set()).add(rest)
    code = [f"{d}/**" for d in _CODE_DIRS if d in tops]
    if "src" not in tops:
        # A Python package at the root (flat layout): a folder with __init__.py that is not tests/docs.
        code += [
            f"{d}/**"
            for d in sorted(tops)
            if "__init__.py" in tops[d] and d not in _NOT_CODE and not d.startswith(".") and f"{d}/**" not in code
        ]
    tests = [f"{d}/**" for d in ("tests", "test", "spec") if d in tops]
    docs = ["docs/**"] if "docs" in tops else []
    if "doc" in tops:
        docs.append("doc/**")
    return DefinitionOfDone(
        tests=TestsRule(
            code=code or list(TestsRule().code),
            tests=tests + [t for t in DEFAULT_TESTS if t not in {f"{d}/**" for d in ("tests", "test")}],
        ),
        docs=DocsRule(docs=docs + [d for d in DEFAULT_DOCS if d not in docs]),
    )
