"""Secrets in added lines, found by detect-secrets (its default plugins and false-positive filters).

detect-secrets scans unified diffs; the added lines are written back as a minimal diff so that its
own parser, plugins and filters decide, and line numbers stay those of the new file.

Its per-line plugin dispatch costs about 40 µs a line, too slow for a 20,000-line change, so each
file's added text first goes through a sound pre-check built from the same plugins: every plugin's
own patterns (made multi-line so `^`/`$` still hold at line ends), the keyword plugin's keyword list,
and the entropy plugins' own quoted-string search and threshold, run once over all added text. A
file none of them can fire on cannot yield a finding and is skipped; every other file goes through
detect-secrets whole (its filters read neighbouring lines).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from onebar.gate.model import FileChange


def _as_diff(files: Iterable[FileChange]) -> str:
    out: list[str] = []
    for f in files:
        out.append(f"diff --git a/{f.path} b/{f.path}\n--- a/{f.path}\n+++ b/{f.path}\n")
        numbers = sorted(f.added)
        start = 0
        while start < len(numbers):
            end = start
            while end + 1 < len(numbers) and numbers[end + 1] == numbers[end] + 1:
                end += 1
            run = numbers[start : end + 1]
            out.append(f"@@ -0,0 +{run[0]},{len(run)} @@\n")
            out.extend("+" + f.added[n] + "\n" for n in run)  # a carriage return inside a line is fine
            start = end + 1
    return "".join(out)


Check = tuple[bool, Callable[[str], Iterator[int]]]  # (reads lower-cased text, search yielding offsets)


def _prechecks(plugins: Iterable[Any]) -> list[Check]:
    """Per plugin, a search yielding the offset of the last character of each place in the text where
    the plugin could report something."""
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

    def regex_search(pats: list[re.Pattern[str]]) -> Callable[[str], Iterator[int]]:
        def run(text: str) -> Iterator[int]:
            for pat in pats:
                # A match may begin with the separator before a file's first line (`\s` in
                # Artifactory's pattern); its last character always lies in the file it is about.
                yield from (max(m.start(), m.end() - 1) for m in pat.finditer(text))

        return run

    def entropy_search(plugin: Any) -> Callable[[str], Iterator[int]]:
        limit = plugin.entropy_limit

        def run(text: str) -> Iterator[int]:
            for m in plugin.regex.finditer(text):
                value = m.group(2)
                # Shannon entropy never exceeds log2(distinct symbols): skip the exact sum when it cannot pass.
                if len(set(value)) > 2**limit and plugin.calculate_shannon_entropy(value) > limit:
                    yield max(m.start(), m.end() - 1)

        return run

    checks: list[Check] = []
    for plugin in plugins:
        if isinstance(plugin, RegexBasedDetector):
            pats = [re.compile(r.pattern, r.flags | re.MULTILINE) for r in plugin.denylist]
            checks.append((False, regex_search(pats)))
        elif isinstance(plugin, HighEntropyStringsPlugin):
            checks.append((False, entropy_search(plugin)))
        elif isinstance(plugin, KeywordDetector):
            # The keywords are lower-case literals; searching lower-cased text beats IGNORECASE fivefold.
            checks.append((True, regex_search([re.compile("|".join(DENYLIST))])))
        else:  # a plugin we know nothing about: every file is a suspect
            checks.append((False, lambda text: iter([-1])))
    return checks


def _joined(texts: list[str]) -> tuple[str, list[int]]:
    starts, offset = [], 0
    for t in texts:
        starts.append(offset)
        offset += len(t)
    return "".join(texts), starts


def _suspects(files: list[FileChange], plugins: Iterable[Any]) -> list[FileChange]:
    """Files some plugin could fire on, found by searching all added text at once (one pass per pattern)."""
    texts = ["\n".join(f.added.values()) + "\n\0\n" for f in files]
    raw = _joined(texts)
    lower = _joined([t.lower() for t in texts])  # per file, as lower() may change a text's length
    hit: set[int] = set()
    for use_lower, search in _prechecks(plugins):
        text, starts = lower if use_lower else raw
        for pos in search(text):
            if pos < 0:
                return files
            hit.add(bisect_right(starts, pos) - 1)
    return [f for i, f in enumerate(files) if i in hit]


def scan_added(files: list[FileChange]) -> list[tuple[str, int, str]]:
    """(path, line, secret type) for each likely secret; the secret itself is never returned."""
    if not files:
        return []
    from detect_secrets.core.scan import scan_diff
    from detect_secrets.settings import default_settings, get_filters, get_plugins

    found: set[tuple[str, int, str]] = set()
    with default_settings() as settings:
        # The files are not on disk (they are lines of a diff); the "is it a real file" filter would drop all.
        settings.disable_filters("detect_secrets.filters.common.is_invalid_file")
        get_filters.cache_clear()
        suspects = _suspects(files, get_plugins())
        if suspects:
            for secret in scan_diff(_as_diff(suspects)):
                found.add((secret.filename, int(secret.line_number), secret.type))
    return sorted(found)
