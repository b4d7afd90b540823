"""Secrets in added lines, found by detect-secrets (its default plugins and false-positive filters).

detect-secrets scans unified diffs; the added lines are written back as a minimal diff so that its
own parser, plugins and filters decide, and line numbers stay those of the new file.
"""

from __future__ import annotations

from collections.abc import Iterable

from onebar.gate.model import FileChange


def _as_diff(files: Iterable[FileChange]) -> str:
    out: list[str] = []
    for f in files:
        # a/ b/ prefixes as git writes them; paths with spaces still parse because unidiff reads the +++ line
        out.append(f"diff --git a/{f.path} b/{f.path}\n--- a/{f.path}\n+++ b/{f.path}\n")
        numbers = sorted(f.added)
        start = 0
        while start < len(numbers):
            end = start
            while end + 1 < len(numbers) and numbers[end + 1] == numbers[end] + 1:
                end += 1
            run = numbers[start : end + 1]
            out.append(f"@@ -0,0 +{run[0]},{len(run)} @@\n")
            out.extend("+" + f.added[n].replace("\r", "") + "\n" for n in run)
            start = end + 1
    return "".join(out)


def scan_added(files: list[FileChange]) -> list[tuple[str, int, str]]:
    """(path, line, secret type) for each likely secret; the secret itself is never returned."""
    if not files:
        return []
    from detect_secrets.core.scan import scan_diff
    from detect_secrets.settings import default_settings, get_filters

    found: set[tuple[str, int, str]] = set()
    with default_settings() as settings:
        # The files are not on disk (they are lines of a diff); the "is it a real file" filter would drop all.
        settings.disable_filters("detect_secrets.filters.common.is_invalid_file")
        get_filters.cache_clear()
        for secret in scan_diff(_as_diff(files)):
            found.add((secret.filename, int(secret.line_number), secret.type))
    return sorted(found)
