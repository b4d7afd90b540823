"""Licence policy: declared licences normalised to SPDX expressions and checked against an allow-list.

Expressions are parsed by `license-expression` (SPDX licence list), so AND/OR/WITH are honoured: an
OR passes when one branch is allowed, an AND only when every part is. Several licences declared
separately are combined with AND (fail closed: nobody said the choice is ours). Anything that is
not a known SPDX id and not a known classifier name is unknown, and unknown fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from onebar.charter.spdx import licensing

# Trove classifiers and common free-text names as pip-licenses reports them, to SPDX. "BSD License"
# names no variant; both common ones are permissive, so it maps to their OR.
KNOWN_NAMES: dict[str, str] = {
    "mit license": "MIT",
    "mit": "MIT",
    "the mit license (mit)": "MIT",
    "mit no attribution license (mit-0)": "MIT-0",
    "bsd license": "BSD-3-Clause OR BSD-2-Clause",
    "bsd": "BSD-3-Clause OR BSD-2-Clause",
    "new bsd license": "BSD-3-Clause",
    "3-clause bsd license": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "simplified bsd license": "BSD-2-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "apache software license": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "isc license (iscl)": "ISC",
    "isc license": "ISC",
    "python software foundation license": "PSF-2.0",
    "psf": "PSF-2.0",
    "psf license": "PSF-2.0",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "mozilla public license 1.1 (mpl 1.1)": "MPL-1.1",
    "gnu general public license (gpl)": "GPL-1.0-or-later",
    "gnu general public license v2 (gplv2)": "GPL-2.0-only",
    "gnu general public license v2 or later (gplv2+)": "GPL-2.0-or-later",
    "gnu general public license v3 (gplv3)": "GPL-3.0-only",
    "gnu general public license v3 or later (gplv3+)": "GPL-3.0-or-later",
    "gnu library or lesser general public license (lgpl)": "LGPL-2.0-or-later",
    "gnu lesser general public license v2 (lgplv2)": "LGPL-2.0-only",
    "gnu lesser general public license v2 or later (lgplv2+)": "LGPL-2.0-or-later",
    "gnu lesser general public license v3 (lgplv3)": "LGPL-3.0-only",
    "gnu lesser general public license v3 or later (lgplv3+)": "LGPL-3.0-or-later",
    "gnu affero general public license v3": "AGPL-3.0-only",
    "gnu affero general public license v3 or later (agplv3+)": "AGPL-3.0-or-later",
    "server side public license": "SSPL-1.0",
    "eclipse public license 2.0 (epl-2.0)": "EPL-2.0",
    "eclipse public license 1.0 (epl-1.0)": "EPL-1.0",
    "european union public licence 1.2 (eupl 1.2)": "EUPL-1.2",
    "the unlicense (unlicense)": "Unlicense",
    "zope public license": "ZPL-2.1",
    "historical permission notice and disclaimer (hpnd)": "HPND",
    "boost software license 1.0 (bsl-1.0)": "BSL-1.0",
    "zlib/libpng license": "Zlib",
    "universal permissive license (upl)": "UPL-1.0",
    "cc0 1.0 universal (cc0 1.0) public domain dedication": "CC0-1.0",
    "academic free license (afl)": "AFL-3.0",
    "artistic license": "Artistic-2.0",
}


@dataclass(frozen=True)
class LicenceCheck:
    ok: bool
    expression: str | None
    reason: str = ""


@lru_cache(maxsize=4096)
def to_spdx(text: str) -> str | None:
    """A declared licence as a valid SPDX expression, or None when it is unknown."""
    text = text.strip()
    if not text:
        return None
    known = KNOWN_NAMES.get(text.lower())
    if known:
        return known
    info = licensing().validate(text)
    if info.errors or info.invalid_symbols:
        return None
    return str(info.normalized_expression)


@lru_cache(maxsize=64)
def _allowed_keys(allow: tuple[str, ...]) -> frozenset[str]:
    keys: set[str] = set()
    for entry in allow:
        expr = licensing().parse(entry, validate=True)
        keys.add(str(expr))
    return frozenset(keys)


def allowed(expression: str, allow: tuple[str, ...]) -> bool:
    """True when some choice permitted by the expression uses only allowed licences."""
    from license_expression import AND, OR, LicenseSymbol, LicenseWithExceptionSymbol

    keys = _allowed_keys(allow)

    def ok(node: Any) -> bool:
        if isinstance(node, OR):
            return any(ok(a) for a in node.args)
        if isinstance(node, AND):
            return all(ok(a) for a in node.args)
        if isinstance(node, LicenseWithExceptionSymbol):
            # An exception only adds permissions: allowed when listed as such or when the licence itself is.
            return str(node) in keys or ok(node.license_symbol)
        if isinstance(node, LicenseSymbol):
            return str(node.key) in keys
        return False

    return ok(licensing().parse(expression, validate=True))


def check_dependency(declared: tuple[str, ...], allow: list[str], override: str | None = None) -> LicenceCheck:
    """Check one dependency's declared licences (or the charter's concluded one) against the allow-list."""
    if override:
        spdx = to_spdx(override)
        if spdx is None:
            return LicenceCheck(False, None, f"concluded licence {override!r} is not SPDX")
        parts = [spdx]
    else:
        if not declared:
            return LicenceCheck(False, None, "no licence declared (unknown)")
        parts = []
        for text in declared:
            spdx = to_spdx(text)
            if spdx is None:
                return LicenceCheck(False, None, f"unknown licence {text!r}")
            parts.append(spdx)
    expression = " AND ".join(f"({p})" if " " in p else p for p in parts)
    if allowed(expression, tuple(allow)):
        return LicenceCheck(True, expression)
    return LicenceCheck(False, expression, f"{expression} is not on the allow-list")
