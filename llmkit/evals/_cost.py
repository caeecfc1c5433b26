"""What a run cost: a price table per model, cost per case, per suite, and a ``max_cost`` gate.

Prices are USD per million tokens, in the suite or in a shared YAML file beside it::

    prices:                                  # or: prices: ../prices.yaml
      gpt-4o-mini: {input: 0.15, output: 0.60, cached_input: 0.075}
      llmkit-sim: {input: 0, output: 0}      # free, said so (never assumed)
    max_cost: 0.50                           # USD for the whole run: exit 1 above it

A case's cost is its recorded prompt tokens (less those the server reported cached, which
cost ``cached_input``) times ``input`` plus its output tokens times ``output``, over all its
repeats (a judge's calls are not counted: they are the scorer's, not the case's). A model
missing from the table, or a case whose server reported no prompt tokens, has no cost:
it is reported by name, never priced as zero, and with ``max_cost`` set it exits 2 (the
gate cannot be checked).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmkit.evals._errors import SuiteError

__all__ = ["Price", "case_cost", "cost_summary", "load_prices", "parse_prices"]

_PRICE_KEYS = ("input", "output", "cached_input")


@dataclass(frozen=True)
class Price:
    """USD per million tokens for one model."""

    input: float
    output: float
    cached_input: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        """The price as JSON."""
        return {"input": self.input, "output": self.output, "cached_input": self.cached_input}


def _price(model: str, value: Any, where: str) -> Price:
    field = f"prices.{model}"
    if not isinstance(value, Mapping):
        raise SuiteError("expected {input: USD/M tokens, output: ...}", path=where, field=field)
    for key in value:
        if key not in _PRICE_KEYS:
            raise SuiteError(
                f"unknown price {key!r} (known: {', '.join(_PRICE_KEYS)})",
                path=where,
                field=f"{field}.{key}",
            )
    numbers: dict[str, float] = {}
    for key in _PRICE_KEYS:
        if key not in value:
            if key == "cached_input":
                continue
            raise SuiteError(f"a price needs {key!r}", path=where, field=field)
        v = value[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise SuiteError(
                f"expected a number of USD per million tokens >= 0, got {v!r}",
                path=where,
                field=f"{field}.{key}",
            )
        numbers[key] = float(v)
    return Price(numbers["input"], numbers["output"], numbers.get("cached_input"))


def parse_prices(value: Any, where: str) -> dict[str, Price]:
    """A price table (``{model: {input, output, cached_input}}``), checked.

    Raises:
        SuiteError: not a mapping of models to prices (``field`` names the entry).
    """
    if isinstance(value, Mapping) and set(value) == {"prices"}:
        value = value["prices"]  # a shared file may hold the table under 'prices:'
    if not isinstance(value, Mapping) or not value:
        raise SuiteError("expected a mapping of model name to prices", path=where, field="prices")
    return {str(model): _price(str(model), v, where) for model, v in value.items()}


def load_prices(value: Any, base: Path, where: str) -> dict[str, Price]:
    """The suite's ``prices:``: an inline table, or a YAML file relative to the suite."""
    if not isinstance(value, str):
        return parse_prices(value, where)
    path = Path(value) if Path(value).is_absolute() else base / value
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(
            f"cannot read the price file {path}: {exc.strerror or exc}", path=where, field="prices"
        ) from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}", path=where, field="prices") from None
    return parse_prices(data, str(path))


def case_cost(timing: Mapping[str, Any], price: Price | None) -> float | None:
    """USD for one case's recorded tokens, or ``None`` when unpriced or usage is unknown."""
    if price is None or not timing.get("calls"):  # a case that never ran has no known cost
        return None
    prompt = timing.get("prompt_tokens")
    if prompt is None:
        return None
    cached = int(timing.get("cached_tokens") or 0)
    cached_price = price.cached_input if price.cached_input is not None else price.input
    usd = (
        (int(prompt) - cached) * price.input
        + cached * cached_price
        + int(timing.get("output_tokens") or 0) * price.output
    ) / 1e6
    return round(usd, 9)


def cost_summary(
    per_case_timing: Mapping[str, Mapping[str, Any]],
    model: str,
    prices: Mapping[str, Price],
    max_cost: float | None,
) -> dict[str, Any]:
    """The ``cost`` block of a summary: per case, in total, and the gate's verdict.

    Returns:
        ``{"usd", "per_case", "model", "price", "unpriced_models", "no_usage", "max_cost",
        "over_budget", "problem"}``; ``usd`` is ``None`` when any case has no cost.
    """
    price = prices.get(model)
    per_case = {cid: case_cost(t, price) for cid, t in per_case_timing.items()}
    no_usage = sorted(c for c, v in per_case.items() if v is None) if price is not None else []
    known = [v for v in per_case.values() if v is not None]
    total = round(sum(known), 9) if price is not None and not no_usage else None
    problem = None
    if price is None:
        problem = f"no price for model {model!r} in the suite's prices (cost unknown, not zero)"
    elif no_usage:
        problem = (
            f"the server reported no prompt tokens for {len(no_usage)} case(s) "
            f"({', '.join(no_usage[:5])}{', ...' if len(no_usage) > 5 else ''}): cost unknown"
        )
    return {
        "usd": total,
        "per_case": per_case,
        "model": model,
        "price": price.to_dict() if price is not None else None,
        "unpriced_models": [] if price is not None else [model],
        "no_usage": no_usage,
        "max_cost": max_cost,
        "over_budget": bool(max_cost is not None and total is not None and total > max_cost),
        "problem": problem,
    }


def apply_cost(summary: dict[str, Any], run: Any) -> list[str]:
    """Add ``cost_usd`` to each case and the ``cost`` block to ``summary``; apply the gate.

    Returns:
        problems, one line each (an unknown price, a budget exceeded); the summary's
        ``exit_code`` is raised to 1 over budget and to 2 when ``max_cost`` cannot be checked.
    """
    suite = run.suite
    timings = {c.case.id: (c.records[0].timing if c.records else {}) for c in run.cases}
    block = cost_summary(timings, suite.model_name, suite.prices, suite.max_cost)
    for case_id, usd in block.pop("per_case").items():
        summary["per_case"][case_id]["cost_usd"] = usd
    if not suite.prices:
        block["problem"] = "no prices: in the suite (cost unknown, not zero)"
    summary["cost"] = block
    problems: list[str] = []
    code = int(summary["exit_code"])
    if suite.max_cost is not None and block["usd"] is None and run.cases:
        problems.append(f"cannot check max_cost: {block['problem']}")
        code = 2
    elif block["over_budget"]:
        problems.append(f"cost ${block['usd']:.6f} above max_cost ${suite.max_cost:g}")
        code = max(code, 1)
    summary["exit_code"], summary["ok"] = code, code == 0
    return problems


def cost_line(summary: Mapping[str, Any]) -> str:
    """One line for people: the total and the dearest case, or why the cost is unknown."""
    block = summary.get("cost") or {}
    if block.get("usd") is None:
        return f"cost: unknown: {block.get('problem') or 'no cost recorded'}"
    per_case = {
        c: v["cost_usd"] for c, v in summary["per_case"].items() if v.get("cost_usd") is not None
    }
    text = f"cost: ${block['usd']:.6f} for {len(per_case)} case(s) of {block['model']}"
    if per_case:
        dearest = max(per_case, key=lambda c: per_case[c])
        text += f" (dearest {dearest}: ${per_case[dearest]:.6f})"
    if block.get("max_cost") is not None:
        text += f", max_cost ${block['max_cost']:g}"
    return text


def add_junit_costs(path: Path, summary: Mapping[str, Any]) -> None:
    """Put ``cost_usd`` properties on the JUnit file's suite and on each case.

    Nothing is added for a suite without ``prices:`` (its cost is unknown everywhere)."""
    import xml.etree.ElementTree as ET

    block = summary.get("cost") or {}
    if str(block.get("problem") or "").startswith("no prices:") and block.get("max_cost") is None:
        return
    tree = ET.parse(path)

    def prop(parent: ET.Element, value: Any) -> None:
        props = ET.Element("properties")
        ET.SubElement(
            props, "property", name="cost_usd", value="unknown" if value is None else f"{value:.9f}"
        )
        parent.insert(0, props)

    for suite in tree.getroot().iter("testsuite"):
        prop(suite, block.get("usd"))
        for case in suite.iter("testcase"):
            entry = summary["per_case"].get(case.get("name", ""))
            if entry is not None:
                prop(case, entry.get("cost_usd"))
    root = tree.getroot()
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n{text}\n', encoding="utf-8")
