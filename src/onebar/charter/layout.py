"""Drafting components from a repository's tree: the product's own packages, with their tests.

A component is a folder of the product: descending through containers (`src/`, `lib/`, `packages/`,
`crates/`, `cmd/`, Maven's `src/main/java/...`) and single-child chains, and splitting a package whose
sub-packages hold most of its files (`keystone/` into `keystone/identity`, `keystone/auth`...).
Tests, fixtures, documentation, examples, vendored and generated folders are never components of
their own. Tests live with the component they test where the layout mirrors it
(`keystone/tests/unit/identity` with `identity`, `src/test/java/x/y` with `src/main/java/x/y`), with
the product when it is one component, else in one `tests` component listed last (the first
component whose paths match a file owns it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from onebar.charter.domains import slug
from onebar.charter.model import Component

TEST_DIRS = frozenset({"tests", "test", "testing", "spec", "specs", "__tests__", "t", "unittests", "e2e"})
NOT_PRODUCT = frozenset(
    [
        "docs",
        "doc",
        "documentation",
        "examples",
        "example",
        "samples",
        "sample",
        "benchmarks",
        "benchmark",
        "bench",
        "fixtures",
        "testdata",
        "test-data",
        "test_data",
        "vendor",
        "vendored",
        "third_party",
        "thirdparty",
        "third-party",
        "external",
        "node_modules",
        "build",
        "dist",
        "out",
        "target",
        "generated",
        "gen",
        "locale",
        "locales",
        "po",
        "releasenotes",
        "release-notes",
        "changelog.d",
        "changes",
        "api-ref",
        "site",
        "website",
        "artwork",
        "ci",
        "devstack",
        "playbooks",
        "rally-jobs",
        "zuul.d",
        "tools",
        "scripts",
        "contrib",
        "misc",
        "etc",
        "config",
        "conf.d",
        "debian",
        "rpm",
        "packaging",
        "deploy",
        "deployment",
        "docker",
        "helm",
        "charts",
        "infra",
        "terraform",
    ]
)
CONTAINERS = frozenset(
    [
        "src",
        "lib",
        "libs",
        "pkg",
        "packages",
        "crates",
        "apps",
        "modules",
        "internal",
        "cmd",
        "components",
        "services",
        "main",
        "java",
        "kotlin",
        "scala",
        "go",
        "source",
        "sources",
    ]
)
MAX_COMPONENTS = 24
MAX_DEPTH = 6


@dataclass
class _Tree:
    files: Counter[str] = field(default_factory=Counter)  # folder -> files under it
    direct: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # folder -> its own files
    children: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, paths: list[str]) -> _Tree:
        t = cls()
        for p in paths:
            parts = p.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                t.files[folder] += 1
                if depth < len(parts) - 1:
                    t.children[folder].add("/".join(parts[: depth + 1]))
            if len(parts) > 1:
                t.direct["/".join(parts[:-1])].append(parts[-1])
        return t


def _base(folder: str) -> str:
    return folder.rsplit("/", 1)[-1]


def is_test_folder(folder: str) -> bool:
    return any(part.lower() in TEST_DIRS for part in folder.split("/"))


def _product(folder: str) -> bool:
    name = _base(folder).lower()
    return not (name.startswith((".", "_")) or name in NOT_PRODUCT or name in TEST_DIRS or name.endswith(".egg-info"))


CODE = frozenset(
    [
        "py",
        "pyx",
        "go",
        "rs",
        "java",
        "kt",
        "kts",
        "scala",
        "groovy",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "vue",
        "svelte",
        "c",
        "h",
        "cc",
        "cpp",
        "hpp",
        "cxx",
        "cs",
        "fs",
        "vb",
        "rb",
        "php",
        "swift",
        "m",
        "mm",
        "ex",
        "exs",
        "erl",
        "hs",
        "ml",
        "clj",
        "lua",
        "pl",
        "pm",
        "r",
        "jl",
        "dart",
        "zig",
        "nim",
        "sql",
        "sh",
    ]
)


def product_folders(paths: list[str], limit: int = MAX_COMPONENTS) -> list[str]:
    """The folders that are the product's packages, largest first."""
    tree = _Tree.of(paths)
    code: Counter[str] = Counter()
    for p in paths:
        if p.rsplit(".", 1)[-1].lower() in CODE:
            parts = p.split("/")
            for depth in range(1, len(parts)):
                code["/".join(parts[:depth])] += 1
    tops = sorted({p.split("/")[0] for p in paths if "/" in p})
    out: list[str] = []
    for top in tops:
        if _product(top) and code[top]:
            out.extend(_expand(tree, top, 0, descend=True))

    def size(f: str) -> int:
        return len(tree.direct.get(f[:-2], ())) if f.endswith("/*") else tree.files[f]

    out = [f for f in out if f.endswith("/*") or code[f]]
    out.sort(key=lambda f: (-size(f), f))
    return out[:limit]


def _expand(tree: _Tree, folder: str, depth: int, *, descend: bool, split: bool = True) -> list[str]:
    """`descend`: containers may be looked through here; `split`: no package above was split yet."""
    kids = sorted(k for k in tree.children.get(folder, ()) if _product(k))
    own = len(tree.direct.get(folder, ()))
    if depth >= MAX_DEPTH or not kids:
        return [folder]
    chain = len(tree.children.get(folder, ())) == 1 and own == 0
    if (descend and _base(folder).lower() in CONTAINERS) or chain:
        return [f for k in kids for f in _expand(tree, k, depth + 1, descend=True, split=split)]
    in_kids = sum(tree.files[k] for k in kids)
    if split and len(kids) >= 2 and in_kids >= tree.files[folder] / 2:
        # A package of packages: each sub-package is a component; the package's own modules one more.
        subs = (f for k in kids for f in _expand(tree, k, depth + 1, descend=False, split=False))
        return [folder + "/*", *subs] if own else list(subs)
    return [folder]


def _paths_of(tree: _Tree, folder: str) -> list[str]:
    if folder.endswith("/*"):
        parent = folder[:-2]
        exts = Counter(n.rsplit(".", 1)[-1] for n in tree.direct.get(parent, ()) if "." in n)
        return [f"{parent}/*.{ext}" for ext, _ in exts.most_common(3)] or [f"{parent}/*"]
    return [f"{folder}/**"]


def _test_roots(paths: list[str]) -> list[str]:
    """Outermost test folders (`tests`, `keystone/tests`, `src/test`)."""
    roots: set[str] = set()
    for p in paths:
        parts = p.split("/")[:-1]
        for depth, part in enumerate(parts):
            if part.lower() in NOT_PRODUCT or part.startswith("."):
                break
            if part.lower() in TEST_DIRS:
                roots.add("/".join(parts[: depth + 1]))
                break
    return sorted(roots)


def _mirrors(tree: _Tree, folder: str, test_roots: list[str]) -> list[str]:
    """Test folders that mirror `folder`: same name under a test root, or Maven's src/test for src/main."""
    found: list[str] = []
    if "/main/" in f"/{folder}/":
        twin = f"/{folder}/".replace("/main/", "/test/", 1).strip("/")
        if tree.files.get(twin):
            found.append(twin)
    name = _base(folder)
    for root in test_roots:
        stack = [root]
        while stack:
            f = stack.pop()
            if _base(f) == name and f != root:
                found.append(f)
                continue
            stack.extend(tree.children.get(f, ()))
    return sorted(set(found))


def draft_components(
    paths: list[str], authors_by_dir: dict[str, Counter[str]], people: set[str]
) -> dict[str, Component]:
    """Components from the tree; Accountable and Responsible are the folder's most frequent recent authors."""
    tree = _Tree.of(paths)
    folders = product_folders(paths)
    roots = _test_roots(paths)
    picked: list[tuple[str, list[str], Counter[str]]] = []
    mapped: set[str] = set()
    for folder in folders:
        owner = folder[:-2] if folder.endswith("/*") else folder
        globs = _paths_of(tree, folder)
        votes = Counter(authors_by_dir.get(owner, Counter()))
        if not folder.endswith("/*"):
            for twin in _mirrors(tree, folder, roots):
                globs.append(f"{twin}/**")
                votes.update(authors_by_dir.get(twin, Counter()))
                mapped.add(twin)
        picked.append((folder, globs, votes))
    unmapped = [r for r in roots if tree.files[r] > sum(tree.files[m] for m in mapped if m.startswith(r + "/"))]
    tests_votes: Counter[str] = Counter()
    for r in roots:
        tests_votes.update(authors_by_dir.get(r, Counter()))
    if len(picked) == 1 and unmapped:  # one product: every test tests it
        picked[0][1].extend(f"{r}/**" for r in unmapped)
        picked[0][2].update(tests_votes)
        unmapped = []
    if unmapped:
        picked.append(("tests", [f"{r}/**" for r in unmapped], tests_votes))
    components: dict[str, Component] = {}
    for folder, globs, votes in picked:
        ranked = [p for p, _ in votes.most_common() if p in people][:3]
        if not ranked:
            continue
        cid = _component_id(folder, components)
        components[cid] = Component(paths=globs, accountable=ranked[0], responsible=ranked[1:])
    return components


def _component_id(folder: str, taken: dict[str, Component]) -> str:
    """The folder's own name (`keystone/identity` -> identity); a package's own modules take its name."""
    parts = [p for p in folder.removesuffix("/*").split("/") if p]
    cid = slug(parts[-1]) if parts else "root"
    if cid in taken and len(parts) > 1:
        cid = slug("-".join(parts[-2:]))
    base, n = cid, 2
    while cid in taken:
        cid, n = f"{base}-{n}", n + 1
    return cid
