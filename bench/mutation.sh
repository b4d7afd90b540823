#!/usr/bin/env bash
# Mutation testing (mutmut 3) of the gate's rules and the DORA, knowledge and overlap metrics.
#
#   bash bench/mutation.sh                          every mutant (hours on two busy cores)
#   bash bench/mutation.sh --sample 0.3 --seed 7    a random 30% of each module's mutants
#   bash bench/mutation.sh --only gate              only src/onebar/gate/rules/ (or: metrics)
#   bash bench/mutation.sh --children 1             one mutant at a time (default 2: mutmut's --max-children)
#   bash bench/mutation.sh --mutants FILE           only the mutants FILE names, one a line (re-run survivors)
#
# What is mutated and which tests run is [tool.mutmut] in pyproject.toml. The run starts from a fresh
# mutants/ (stale coverage stats would skip new tests), then bench/mutation_report.py prints, per
# module, killed / survived / other and the share of non-equivalent mutants killed, with every
# survivor; bench/mutation-equivalent.txt lists the survivors judged equivalent, with the reason.
# Figures and the survivors' judgement are in docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
sample=1
seed=0
only=""
children=2
list=""
while [ $# -gt 0 ]; do
    case "$1" in
        --sample) sample="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --only) only="$2"; shift 2 ;;
        --children) children="$2"; shift 2 ;;
        --mutants) list="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
bash scripts/setup.sh
.venv/bin/python -m pip install -q --group mutation
rm -rf mutants && mkdir mutants
# mutmut generates every mutant and records which tests reach which function on its first run; one
# named mutant keeps that first run short. Its name is mutmut's: module, x_<function>__mutmut_<n>.
.venv/bin/mutmut run --max-children "$children" "onebar.gate.rules.base.x_examples__mutmut_1" > mutants/bootstrap.log 2>&1
if [ -n "$list" ]; then
    names=$(grep -v '^#' "$list" | awk '{print $1}' | tr '\n' ' ')
else
    names=$(.venv/bin/python bench/mutation_report.py --pick --sample "$sample" --seed "$seed" --only "$only")
fi
# shellcheck disable=SC2086
if ! .venv/bin/mutmut run --max-children "$children" $names > mutants/run.log 2>&1 || grep -q "failed to collect stats" mutants/run.log; then
    tail -40 mutants/run.log >&2
    echo "mutmut failed; the whole log is mutants/run.log" >&2
    exit 1
fi
.venv/bin/python bench/mutation_report.py --only "$only"
