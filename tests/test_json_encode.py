"""The report's JSON encoder writes exactly what `json.dumps(indent=2, ensure_ascii=False)` writes."""

from __future__ import annotations

import json
import random
from enum import IntEnum
from typing import Any

import pytest

from onebar.report.render.encode import dumps


class Level(IntEnum):
    LOW = 1


def _random(rnd: random.Random, depth: int = 0) -> Any:
    pick = rnd.randrange(10 if depth < 4 else 6)
    if pick == 0:
        return rnd.choice([None, True, False])
    if pick == 1:
        return rnd.randint(-(10**20), 10**20)
    if pick == 2:
        return rnd.choice([0.0, -0.0, 1e16, 1.5e-7, 0.1 + 0.2, 123.456, float("nan"), float("inf"), -float("inf")])
    if pick in (3, 4, 5):
        return "".join(rnd.choice(["a", "é", '"', "\\", "\n", "\t", "\x00", "\u2028", "😀", " "]) for _ in range(5))
    if pick in (6, 7):
        return {_random_key(rnd): _random(rnd, depth + 1) for _ in range(rnd.randrange(4))}
    items = [_random(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    return items if pick == 8 else tuple(items)


def _random_key(rnd: random.Random) -> Any:
    return rnd.choice(["k", "ключ", 'q"uote', 1, 2.5, True, False, None, "😀"])


@pytest.mark.parametrize("seed", range(200))
def test_same_text_as_the_standard_library(seed: int) -> None:
    value = _random(random.Random(seed))
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("value", [{}, [], (), "", 0, {"a": {}}, {"a": []}, [[], {}], Level.LOW, {"x": Level.LOW}])
def test_edge_values(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_what_the_standard_library_rejects_is_rejected() -> None:
    with pytest.raises(TypeError):
        dumps({"a": object()})
    with pytest.raises(TypeError):
        dumps({(1, 2): 3})
