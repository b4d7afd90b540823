"""A first definition of done guessed from a repository's file list, for `onebar init`.

Every rule is on with its defaults; only the paths are guessed: `src/` or top-level package folders
as code, and as tests the layouts of the big ecosystems that the tree shows (a test path wins over
a code path in `tests.with_code`), `docs/` and Markdown as docs.
"""

from __future__ import annotations

from onebar.charter.done import DEFAULT_DOCS, DEFAULT_TESTS, DefinitionOfDone, DocsRule, TestsRule

# Folders that hold code by convention in other ecosystems (Go, Ruby, JavaScript, Rust).
_CODE_DIRS = ("src", "lib", "app", "pkg", "cmd", "internal", "crates", "packages")
_NOT_CODE = {
    "tests",
    "test",
    "spec",
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

# Test layouts per ecosystem: (globs, a predicate on the file list saying the ecosystem is present).
ECOSYSTEM_TESTS: dict[str, tuple[str, ...]] = {
    "python": ("**/tests/**", "**/test_*.py", "**/*_test.py", "**/conftest.py"),
    "javascript": ("**/__tests__/**", "**/*.test.*", "**/*.spec.*", "**/test/**", "**/e2e/**"),
    "java": ("**/src/test/**", "**/src/androidTest/**", "**/src/integrationTest/**", "**/*Test.java", "**/*Tests.java"),
    "kotlin": ("**/src/test/**", "**/*Test.kt", "**/*Tests.kt"),
    "go": ("**/*_test.go", "**/testdata/**"),
    "rust": ("tests/**", "**/tests/**", "benches/**"),
    "csharp": ("**/*.Tests/**", "**/*.Test/**", "**/*.UnitTests/**", "**/*.IntegrationTests/**", "**/*Tests.cs"),
    "ruby": ("spec/**", "**/spec/**", "**/*_spec.rb", "**/*_test.rb"),
}
_SIGNS: dict[str, tuple[str, ...]] = {
    "python": (".py",),
    "javascript": (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue", ".svelte"),
    "java": (".java",),
    "kotlin": (".kt", ".kts"),
    "go": (".go",),
    "rust": (".rs",),
    "csharp": (".cs", ".fs", ".vb"),
    "ruby": (".rb",),
}


def ecosystems(paths: list[str]) -> list[str]:
    """The ecosystems whose source files the tree holds, in ECOSYSTEM_TESTS order."""
    exts = {p[p.rfind(".") :].lower() for p in paths if "." in p.rsplit("/", 1)[-1]}
    return [eco for eco, signs in _SIGNS.items() if exts & set(signs)]


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
    for eco in ecosystems(paths):
        tests += [t for t in ECOSYSTEM_TESTS[eco] if t not in tests]
    tests += [t for t in DEFAULT_TESTS if t not in tests]
    docs = ["docs/**"] if "docs" in tops else []
    if "doc" in tops:
        docs.append("doc/**")
    return DefinitionOfDone(
        tests=TestsRule(code=code or list(TestsRule().code), tests=tests),
        docs=DocsRule(docs=docs + [d for d in DEFAULT_DOCS if d not in docs]),
    )
