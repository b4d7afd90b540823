"""Small, plausible file contents and the few-line edits that commits make to them.

Text files are kept as lists of lines (so an edit touches a few lines and `--numstat` counts are
meaningful); binary files as bytes. Everything is drawn from one `random.Random` for determinism.
"""

from __future__ import annotations

import random
from collections.abc import Container

Content = list[str] | bytes

_WORDS = (
    "order cart price invoice refund tax total item stock sku customer account session token cache retry "
    "queue event payload record batch limit offset page cursor filter query index score rank match term "
    "report window period amount currency rate ledger entry status state config option value default "
    "handler client server request response header body schema field error reason message timeout"
)
WORDS = tuple(_WORDS.split())
_VERBS = "load save build parse render fetch apply merge split check update compute resolve format"
VERBS = tuple(_VERBS.split())
_SENTENCE_WORDS = (
    "the a this each every service team request change release customer order payment invoice search "
    "index page user endpoint component module test build deploy runs returns stores checks keeps uses "
    "must should may when after before until because so that with without for from into across"
)
SENTENCE_WORDS = tuple(_SENTENCE_WORDS.split())

# Directory of each area's files and the extensions it uses.
AREA_DIRS: dict[str, tuple[str, tuple[str, ...]]] = {
    "core": ("src/shop/core", (".py",)),
    "api": ("src/shop/api", (".py",)),
    "billing": ("src/shop/billing", (".py",)),
    "search": ("src/shop/search", (".py",)),
    "importer": ("src/shop/importer", (".py",)),
    "web": ("web/src", (".ts", ".ts", ".tsx", ".css")),
    "infra": ("infra/terraform", (".tf", ".tf", ".yml")),
    "docs": ("docs", (".md",)),
    "vendor": ("vendor/minijson", (".py",)),
}
CODE_AREAS = ("core", "api", "billing", "search", "importer")
MAX_LINES = 90

_PY_PACKAGES = (
    "requests 2.31.0|pydantic 2.5.3|sqlalchemy 2.0.25|fastapi 0.109.0|uvicorn 0.27.0|httpx 0.26.0|"
    "redis 5.0.1|celery 5.3.6|stripe 7.11.0|boto3 1.34.20|jinja2 3.1.3|structlog 24.1.0|orjson 3.9.12"
)
PY_PACKAGES = tuple(_PY_PACKAGES.split("|"))
_JS_PACKAGES = "react 18.2.0|vite 5.0.12|typescript 5.3.3|vitest 1.2.1|zod 3.22.4|eslint 8.56.0"
JS_PACKAGES = tuple(_JS_PACKAGES.split("|"))


def _ident(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}_{rng.choice(WORDS)}"


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(SENTENCE_WORDS) for _ in range(rng.randint(6, 14))]
    return " ".join(words).capitalize() + "."


def line_for(ext: str, rng: random.Random) -> str:
    """One plausible line of a file with extension `ext`."""
    r = rng.random()
    if ext == ".py":
        if r < 0.15:
            return f"def {rng.choice(VERBS)}_{_ident(rng)}({rng.choice(WORDS)}, {rng.choice(WORDS)}=None):"
        if r < 0.55:
            call = f"{rng.choice(VERBS)}_{rng.choice(WORDS)}({rng.choice(WORDS)}, {rng.randint(0, 99)})"
            return f"    {_ident(rng)} = {call}"
        if r < 0.75:
            return f"    if {rng.choice(WORDS)} is None or {rng.choice(WORDS)} > {rng.randint(1, 500)}:"
        if r < 0.9:
            return f"        return {rng.choice(WORDS)}.{rng.choice(VERBS)}()"
        return f"    # {_sentence(rng)}"
    if ext in (".ts", ".tsx"):
        if r < 0.2:
            return f"export function {rng.choice(VERBS)}{rng.choice(WORDS).title()}({rng.choice(WORDS)}: string) {{"
        if r < 0.7:
            return (
                f"  const {rng.choice(WORDS)}{rng.choice(WORDS).title()} = {rng.choice(VERBS)}({rng.randint(0, 99)});"
            )
        if r < 0.85:
            return "}"
        return f"  // {_sentence(rng)}"
    if ext == ".css":
        return f".{rng.choice(WORDS)}-{rng.choice(WORDS)} {{ margin: {rng.randint(0, 24)}px; }}"
    if ext == ".tf":
        if r < 0.2:
            return f'resource "aws_{rng.choice(WORDS)}" "{rng.choice(WORDS)}" {{'
        return f'  {rng.choice(WORDS)}_{rng.choice(WORDS)} = "{rng.choice(WORDS)}-{rng.randint(1, 9)}"'
    if ext == ".yml":
        return f"  {rng.choice(WORDS)}_{rng.choice(WORDS)}: {rng.choice(WORDS)}-{rng.randint(1, 40)}"
    if ext == ".md":
        return f"## {rng.choice(WORDS).title()} {rng.choice(WORDS)}" if r < 0.1 else _sentence(rng)
    return _sentence(rng)


def new_text(path: str, rng: random.Random) -> list[str]:
    """A fresh file of 12-40 lines with a header that names it."""
    ext = path[path.rfind(".") :]
    n = rng.randint(12, 40)
    if ext == ".py":
        head = [f'"""{path.rsplit("/", 1)[-1][:-3].replace("_", " ").capitalize()}."""', "", "import logging", ""]
    elif ext == ".md":
        head = [f"# {path.rsplit('/', 1)[-1][:-3].replace('-', ' ').title()}", ""]
    else:
        head = []
    return head + [line_for(ext, rng) for _ in range(n)]


def new_binary(rng: random.Random) -> bytes:
    """A small PNG-looking blob; the NUL bytes make git treat it as binary."""
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(rng.randint(300, 1500))


def edit(lines: list[str], ext: str, rng: random.Random) -> None:
    """Change a few lines in place: replace, insert or delete 1-3 lines; long files shrink."""
    for _ in range(rng.randint(1, 3)):
        n = len(lines)
        r = rng.random()
        i = rng.randrange(n) if n else 0
        if r < 0.45 and n > 4:
            lines[i] = line_for(ext, rng)
        elif r < 0.8 or n < 10:
            lines[i:i] = [line_for(ext, rng) for _ in range(rng.randint(1, 3))]
        else:
            del lines[i : i + rng.randint(1, 2)]
    if len(lines) > MAX_LINES:
        i = rng.randrange(4, len(lines) - 10)
        del lines[i : i + rng.randint(5, 10)]


def serialise(content: Content) -> bytes:
    if isinstance(content, bytes):
        return content
    return ("\n".join(content) + "\n").encode()


def new_path(area: str, rng: random.Random, taken: Container[str]) -> str:
    """An unused path for a new file in `area` (never a binary one)."""
    base, exts = AREA_DIRS[area]
    for attempt in range(50):
        ext = rng.choice(exts)
        stem = (
            f"{rng.choice(WORDS)}_{rng.choice(WORDS)}" if ext == ".py" else f"{rng.choice(WORDS)}-{rng.choice(WORDS)}"
        )
        if attempt > 5:
            stem += f"_{rng.randint(2, 9999)}"
        path = f"{base}/{stem}{ext}"
        if path not in taken:
            return path
    raise RuntimeError("no free file name")  # pragma: no cover - 50 random names all taken


def test_path_for(path: str) -> str | None:
    """tests/<area>/test_<module>.py for a module under src/shop/<area>/."""
    if not path.startswith("src/shop/") or not path.endswith(".py"):
        return None
    area, module = path[len("src/shop/") :].split("/", 1)
    return f"tests/{area}/test_{module.replace('/', '_')}"


def requirements() -> list[str]:
    return [f"{name}=={version}" for name, version in (p.split() for p in PY_PACKAGES)]


def package_json() -> list[str]:
    deps = [f'    "{name}": "^{version}",' for name, version in (p.split() for p in JS_PACKAGES)]
    deps[-1] = deps[-1].rstrip(",")
    return ["{", '  "name": "acme-shop-web",', '  "private": true,', '  "dependencies": {', *deps, "  }", "}"]


def bump(version: str, rng: random.Random) -> str:
    """The next patch or minor version of `version`."""
    major, minor, patch = (int(x) for x in version.split("."))
    if rng.random() < 0.7:
        return f"{major}.{minor}.{patch + 1}"
    return f"{major}.{minor + 1}.0"
