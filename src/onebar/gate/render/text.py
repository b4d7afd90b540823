"""The verdict for a person at a terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from onebar.gate.model import Verdict

_STYLE = {
    "pass": ("PASS", "green"),
    "fail": ("FAIL", "bold red"),
    "not_evaluated": ("N/E", "yellow"),
    "disabled": ("off", "dim"),
}


def print_text(verdict: Verdict, console: Console) -> None:
    """A table of rules (status, what was seen, what would pass), then each failure's places."""
    author = verdict.author
    who = f"{author.label} ({author.org or 'organisation unknown'})" if author else "unknown"
    console.print(
        Text.assemble(
            ("onebar gate ", "bold"),
            f"{verdict.base[:12]}..{verdict.head[:12]}  ",
            (f"author {who}", "dim"),
            ("  (recorded, not judged)", "dim"),
        )
    )
    console.print(
        Text(
            f"charter: {verdict.charter}; {verdict.files_changed} file(s), +{verdict.lines_added} "
            f"-{verdict.lines_removed}; mode {verdict.mode}",
            style="dim",
        )
    )
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("saw")
    table.add_column("to pass")
    for r in verdict.results:
        label, style = _STYLE[r.status]
        if r.status == "fail" and r.mode == "evaluate":
            label, style = "WARN", "yellow"
        # Text, never str: a str cell is read as Rich markup, and "[done.licenses]" would vanish.
        table.add_row(Text(label, style=style), Text(r.id), Text(r.saw), Text(r.fix if r.status != "pass" else ""))
    console.print(table)
    for r in verdict.results:
        if r.status != "fail" or not r.violations:
            continue
        console.print(Text(r.id, style="bold"))
        for v in r.violations[:20]:
            where = f"{v.path}:{v.line}" if v.path and v.line else (v.path or "")
            console.print(Text(f"  {where}  {v.message}".rstrip()))
        if len(r.violations) > 20:
            console.print(Text(f"  ... and {len(r.violations) - 20} more", style="dim"))
    verdict_style = "bold red" if verdict.status == "fail" else "bold green"
    tail = " (evaluate mode: not failing)" if verdict.mode == "evaluate" and verdict.status == "fail" else ""
    console.print(Text(f"verdict: {verdict.status.upper()}{tail}", style=verdict_style))
