"""Pick mutants for bench/mutation.sh, and report what a mutmut run killed.

    python bench/mutation_report.py --pick --sample 0.3 --seed 7 [--only gate|metrics]   names to run
    python bench/mutation_report.py [--only gate|metrics]                                the figures

Reads mutmut's own records (mutants/**/*.py.meta). A mutant listed in bench/mutation-equivalent.txt
("name  reason") cannot be killed by any test, so it leaves the denominator.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parent.parent
GROUPS = {"gate": "onebar.gate.rules", "metrics": "onebar.metrics"}


def _mutants(only: str) -> dict[str, dict[str, int | None]]:
    """Module -> {mutant name: mutmut exit code (None: not run)}."""
    out: dict[str, dict[str, int | None]] = {}
    for meta in sorted((ROOT / "mutants" / "src").rglob("*.py.meta")):
        module = ".".join(meta.relative_to(ROOT / "mutants" / "src").with_suffix("").with_suffix("").parts)
        module = module.removesuffix(".__init__")
        if only and not module.startswith(GROUPS[only]):
            continue
        out[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return out


def _equivalent() -> dict[str, str]:
    path = ROOT / "bench" / "mutation-equivalent.txt"
    out = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            out[name] = reason.strip()
    return out


def pick(only: str, share: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    names: list[str] = []
    for _module, mutants in sorted(_mutants(only).items()):
        keys = sorted(mutants)
        if share < 1 and keys:  # stratified: the same share of every module
            keys = rng.sample(keys, max(1, round(share * len(keys))))
        names += keys
    return names


def report(only: str) -> None:
    equivalent = _equivalent()
    total: dict[str, int] = defaultdict(int)
    survivors: list[str] = []
    print(f"{'module':<34} {'run':>5} {'killed':>7} {'survived':>9} {'equiv.':>7} {'other':>6} {'score':>7}")
    for module, mutants in sorted(_mutants(only).items()):
        counts: dict[str, int] = defaultdict(int)
        for name, code in mutants.items():
            status = status_by_exit_code[code]
            if status == "not checked":
                continue
            counts["run"] += 1
            if status == "killed" or status == "timeout" or status == "caught by type check":
                counts["killed"] += 1
            elif status == "survived" and name in equivalent:
                counts["equivalent"] += 1
            elif status == "survived":
                counts["survived"] += 1
                survivors.append(name)
            else:
                counts["other"] += 1  # no tests, suspicious, segfault
        for k, v in counts.items():
            total[k] += v
        print(_row(module, counts))
    print(_row("all", total))
    print(f"\n{len(survivors)} survivor(s) not judged equivalent:")
    for name in survivors:
        print(f"  {name}")


def _row(label: str, c: dict[str, int]) -> str:
    judged = c["killed"] + c["survived"] + c["other"]
    score = f"{100 * c['killed'] / judged:.1f}%" if judged else "-"
    return (
        f"{label:<34} {c['run']:>5} {c['killed']:>7} {c['survived']:>9} {c['equivalent']:>7} {c['other']:>6} {score:>7}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pick", action="store_true", help="print the names of the mutants to run")
    ap.add_argument("--sample", type=float, default=1.0, help="share of each module's mutants")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=["", *GROUPS], default="")
    args = ap.parse_args()
    if args.pick:
        print(" ".join(pick(args.only, args.sample, args.seed)))
    else:
        report(args.only)


if __name__ == "__main__":
    main()
