"""Dependency licences as evidence: a CycloneDX JSON SBOM or pip-licenses' JSON output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onebar.errors import EvidenceError, Location
from onebar.gate.evidence import load_json
from onebar.gate.model import Dependency


def parse_sbom(path: Path) -> list[Dependency]:
    """Components of a CycloneDX JSON SBOM (nested components included) with their declared licences."""
    doc = load_json(path, "SBOM")
    loc = str(path)
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise EvidenceError(
            "not a CycloneDX JSON SBOM (bomFormat is not 'CycloneDX')",
            location=Location(loc, None, "bomFormat"),
            hint="generate one with cyclonedx-py",
        )
    components = doc.get("components")
    if not isinstance(components, list) or not components:
        raise EvidenceError(
            "SBOM lists no components",
            location=Location(loc, None, "components"),
            hint="the generator saw no dependencies; generate it from the environment the project installs into",
        )
    out: list[Dependency] = []

    def walk(items: list[Any], field: str) -> None:
        for i, comp in enumerate(items):
            cfield = f"{field}[{i}]"
            if not isinstance(comp, dict) or not isinstance(comp.get("name"), str):
                raise EvidenceError("component has no name", location=Location(loc, None, f"{cfield}.name"))
            out.append(Dependency(comp["name"], comp.get("version"), _licences(comp.get("licenses"), loc, cfield), loc))
            if isinstance(comp.get("components"), list):
                walk(comp["components"], f"{cfield}.components")

    walk(components, "components")
    return out


def _licences(entries: Any, loc: str, field: str) -> tuple[str, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise EvidenceError("licenses must be an array", location=Location(loc, None, f"{field}.licenses"))
    found: list[str] = []
    for j, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise EvidenceError(
                "licence entry must be an object", location=Location(loc, None, f"{field}.licenses[{j}]")
            )
        if isinstance(entry.get("expression"), str):
            found.append(entry["expression"])
            continue
        lic = entry.get("license")
        if isinstance(lic, dict):
            value = lic.get("id") or lic.get("name")
            if isinstance(value, str) and value.strip():
                found.append(value.strip())
    return tuple(found)


def parse_pip_licenses(path: Path) -> list[Dependency]:
    """`pip-licenses --format=json`: [{"Name", "Version", "License"}]; '; ' separates several licences."""
    doc = load_json(path, "pip-licenses JSON")
    loc = str(path)
    if not isinstance(doc, list):
        raise EvidenceError(
            "pip-licenses JSON must be an array of packages",
            location=Location(loc, 1),
            hint="run `pip-licenses --format=json`",
        )
    if not doc:
        raise EvidenceError("pip-licenses JSON lists no packages", location=Location(loc, 1))
    out: list[Dependency] = []
    for i, item in enumerate(doc):
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise EvidenceError("package has no Name", location=Location(loc, None, f"[{i}].Name"))
        raw = item.get("License")
        if not isinstance(raw, str):
            raise EvidenceError("package has no License", location=Location(loc, None, f"[{i}].License"))
        names = tuple(n.strip() for n in raw.split(";") if n.strip() and n.strip().upper() != "UNKNOWN")
        version = item.get("Version")
        out.append(Dependency(item["Name"], version if isinstance(version, str) else None, names, loc))
    return out
