"""A seeded sample of the compositional generator (``benchmarks/compose_corpus.py``).

Invariants, over answers composed of one to three error classes with ground truth:
``ok`` implies the value equals the truth (failing is always allowed, guessing never),
and no string of an ``ok`` value appears nowhere in the answer. The full measurement,
per operator and per pair, is ``python benchmarks/recovery.py --generated 2000``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"_bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


compose = _load("compose_corpus")
recovery = _load("recovery")


@pytest.fixture(scope="module")
def rows() -> list[Any]:
    cases = compose.generate(400, seed=7, triples=60)
    return list(recovery.run_api(cases))


def test_the_generator_is_deterministic_and_covers_every_operator() -> None:
    a = compose.generate(200, seed=3, triples=10)
    b = compose.generate(200, seed=3, triples=10)
    assert a == b
    seen = {op for case in a for op in case["operators"]}
    assert seen == set(compose.OPERATORS)
    assert {len(c["operators"]) for c in a} == {1, 2, 3}


def test_ok_means_the_truth(rows: list[Any]) -> None:
    wrong = [r for r in rows if r.outcome == "wrong_ok"]
    detail = "\n".join(
        f"{r.case['class']}: {r.case['text'][:120]!r} -> {r.got['value']!r}" for r in wrong[:10]
    )
    assert not wrong, f"{len(wrong)} wrong but ok:\n{detail}"


def test_no_made_up_value(rows: list[Any]) -> None:
    made = [
        (r.case["id"], extra)
        for r in rows
        if r.got and r.got["ok"] and (extra := recovery.made_up(r.got["value"], r.case["text"]))
    ]
    assert not made, made[:5]


def test_made_up_detects_an_invented_string() -> None:
    assert recovery.made_up({"zz": "braced: "}, "- {braced}") == ["zz", "braced: "]
    assert recovery.made_up({"Title": "x"}, "title: x\r\n") == []
    assert recovery.made_up(["Note: read"], "- \u201cNote: read\u201d") == []


def test_most_answers_are_recovered(rows: list[Any]) -> None:
    exact = sum(r.outcome == "exact" for r in rows)
    assert exact / len(rows) >= 0.9, f"{exact}/{len(rows)} exact"
