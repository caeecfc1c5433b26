"""The error taxonomy over many results, and the prompt hints that prevent the top classes.

LinkedIn's loop: analyse the errors, add hints to the prompt, repair the rest.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit.structured._pipeline import parse
from llmkit.structured._registry import get_rule, hint_for
from llmkit.structured._result import STAGES, StructuredResult

__all__ = [
    "Taxonomy",
    "failure_class",
    "read_jsonl_records",
    "taxonomy",
    "taxonomy_from_jsonl",
    "taxonomy_from_log",
]

_FAILURE_HINTS = {
    "schema mismatch": "Use exactly the field names, types and allowed values shown.",
    "empty answer": "Always answer with the document, even when unsure.",
    "unsafe input": "Reply with plain YAML: no tags, anchors or aliases.",
}
_SYNTAX_HINT = "Quote string values that contain punctuation such as : # [ ] { } or quotes."
_LINE = re.compile(r"(?<!\s)\s*+\(line \d+, column \d+\)")


@dataclass(frozen=True)
class Taxonomy:
    """Counts per rule and stage over many results, failure examples, hint lines.

    Attributes:
        total: results counted.
        stages: count per stage (every stage present, zeros included).
        rules: count per rule name, most frequent first.
        failures: count per failure class, most frequent first.
        examples: a few failures: ``{"class", "error", "text"}``.
        hints: prompt hint lines that prevent the top classes, most useful first.
        hint_rules: the rules whose hint lines were chosen.
        skipped: input items that could not be counted (a JSONL line that is not JSON
            or not an object, a record with neither a known ``stage`` nor a string
            ``text``, a record whose own ``schema`` is not a valid schema).
    """

    total: int
    stages: dict[str, int]
    rules: dict[str, int]
    failures: dict[str, int]
    examples: list[dict[str, Any]] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    hint_rules: list[str] = field(default_factory=list)
    skipped: int = 0

    @property
    def malformed_rate(self) -> float:
        """Share of answers that were not clean."""
        return 1 - self.stages.get("clean", 0) / self.total if self.total else 0.0

    @property
    def failure_rate(self) -> float:
        """Share of answers that failed after repair."""
        return self.stages.get("failed", 0) / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict."""
        return {
            "total": self.total,
            "stages": self.stages,
            "rules": self.rules,
            "failures": self.failures,
            "examples": self.examples,
            "hints": self.hints,
            "hint_rules": self.hint_rules,
            "malformed_rate": round(self.malformed_rate, 4),
            "failure_rate": round(self.failure_rate, 4),
            "skipped": self.skipped,
        }

    def to_frame(self) -> Any:
        """A pandas DataFrame: one row per rule (count, share, phase, class, hint)."""
        import pandas as pd

        rows = []
        for name, count in self.rules.items():
            rule = get_rule(name)
            rows.append(
                {
                    "rule": name,
                    "count": count,
                    "share": count / self.total if self.total else 0.0,
                    "phase": rule.phase if rule else "user",
                    "error_class": rule.error_class if rule else "",
                    "hint": hint_for(name) or "",
                }
            )
        return pd.DataFrame(
            rows, columns=["rule", "count", "share", "phase", "error_class", "hint"]
        )


def failure_class(error: str | None) -> str:
    """Group a failure message: ``YAML syntax: <problem>``, ``schema mismatch``, ...."""
    if not error:
        return "unknown"
    if error.startswith("schema"):
        return "schema mismatch"
    if error.startswith(("input refused", "nesting", "more than", "aliases", "refused")):
        return "unsafe input"
    if error.startswith(("empty answer", "no document")):
        return "empty answer"
    if "syntax:" in error:
        head, _, problem = error.partition("syntax:")
        problem = _LINE.sub("", problem).strip()
        problem = problem.split(": ")[-1] if ": " in problem else problem
        return f"{head.strip()} syntax: {problem[:60]}"
    return _LINE.sub("", error)[:60]


def _as_record(item: Any, schema: Any, format: str) -> dict[str, Any] | None:
    if isinstance(item, StructuredResult):
        return {
            "stage": item.stage,
            "repairs": list(item.repairs),
            "error": item.error,
            "text": item.raw,
        }
    if not isinstance(item, dict):
        return None
    if item.get("stage") in STAGES:
        repairs = item.get("repairs") or []
        if isinstance(repairs, str):
            try:
                repairs = json.loads(repairs)
            except ValueError:
                repairs = [repairs]
        if not isinstance(repairs, list):
            repairs = [repairs]
        error = item.get("error")
        text = item.get("text") or item.get("raw") or ""
        return {
            "stage": item["stage"],
            "repairs": [str(r) for r in repairs],
            "error": error if isinstance(error, str) or error is None else str(error),
            "text": text if isinstance(text, str) else str(text),
        }
    if isinstance(item.get("text"), str):
        finish = item.get("finish_reason")
        try:
            r = parse(
                item["text"],
                item.get("schema") or schema,
                format=format,
                finish_reason=finish if isinstance(finish, str) else None,
            )
        except Exception:  # the record's own schema is not a schema: not countable
            return None
        return {
            "stage": r.stage,
            "repairs": list(r.repairs),
            "error": r.error,
            "text": item["text"],
        }
    return None


def taxonomy(
    results: Iterable[Any],
    *,
    schema: Any = None,
    format: str = "auto",
    top: int = 5,
    max_examples: int = 5,
) -> Taxonomy:
    """Build the taxonomy report.

    Args:
        results: :class:`StructuredResult` objects, dicts as written by
            ``llmkit parse --jsonl`` (``stage``/``repairs``/``error``), or records with
            ``text`` (and optional ``schema``/``finish_reason``) that are parsed here.
        schema: schema for records that carry text but no schema.
        format: format for records parsed here.
        top: how many classes get a hint line.
        max_examples: failure examples kept.
    """
    stages: Counter[str] = Counter({s: 0 for s in STAGES})
    rules: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    total = skipped = 0
    for item in results:
        rec = _as_record(item, schema, format)
        if rec is None:
            skipped += 1
            continue
        total += 1
        stages[rec["stage"]] += 1
        rules.update(dict.fromkeys(rec["repairs"], 1))
        if rec["stage"] == "failed":
            cls = failure_class(rec["error"])
            failures[cls] += 1
            if len(examples) < max_examples:
                examples.append(
                    {"class": cls, "error": rec["error"], "text": (rec["text"] or "")[:300]}
                )
    hints: list[str] = []
    hint_rules: list[str] = []
    weighted = [(n, name) for name, n in rules.items()] + [
        (n, f"!{cls}") for cls, n in failures.items()
    ]
    for _, name in sorted(weighted, key=lambda x: (-x[0], x[1])):
        if len(hints) >= top:
            break
        if name.startswith("!"):
            cls = name[1:]
            line = _FAILURE_HINTS.get(cls) or (_SYNTAX_HINT if "syntax" in cls else None)
        else:
            line = hint_for(name)
            if line:
                hint_rules.append(name)
        if line and line not in hints:
            hints.append(line)
    return Taxonomy(
        total,
        dict(stages),
        dict(rules.most_common()),
        dict(failures.most_common()),
        examples,
        hints,
        hint_rules,
        skipped,
    )


def _jsonl_items(path: str | Path) -> Iterator[Any]:
    """Each non-blank line of a JSONL file, decoded (``None`` where it is not JSON)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except ValueError:
                yield None


def read_jsonl_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file, one per line (malformed lines skipped)."""
    for rec in _jsonl_items(path):
        if isinstance(rec, dict):
            yield rec


def taxonomy_from_jsonl(
    path: str | Path, *, schema: Any = None, format: str = "auto", top: int = 5
) -> Taxonomy:
    """Taxonomy of a JSONL file of parse outputs or of records with ``text``.

    Lines that cannot be counted (not JSON, not an object, no ``stage`` or ``text``) are
    counted in :attr:`Taxonomy.skipped`, never silently dropped.
    """
    return taxonomy(_jsonl_items(path), schema=schema, format=format, top=top)


def taxonomy_from_log(records: Any, *, top: int = 5) -> Taxonomy:
    """Taxonomy of the structured calls in the model client's call log.

    ``llmkit.structured`` does not read the log itself (``llmkit.llm`` depends on this
    package, not the reverse); pass its rows::

        from llmkit.llm import read_log
        taxonomy_from_log(read_log(path))

    Args:
        records: the rows of the call log: a pandas DataFrame from
            ``llmkit.llm.read_log`` or an iterable of mappings with ``structured_stage``,
            ``structured_repairs`` (a JSON list, or a list), ``structured_error`` and
            ``response_text``. Rows of calls that were not structured are left out.
        top: how many classes get a hint line.

    Raises:
        TypeError: ``records`` is a path or text (read it with ``read_log`` first).
    """
    if isinstance(records, (str, bytes, Path)):
        raise TypeError(
            "taxonomy_from_log takes the log's rows: taxonomy_from_log(llmkit.llm.read_log(path))"
        )
    if hasattr(records, "to_dict") and hasattr(records, "columns"):
        records = records.to_dict("records")
    rows: list[dict[str, Any]] = []
    for row in records:
        if not isinstance(row, Mapping):
            continue
        stage = row.get("structured_stage")
        if not isinstance(stage, str) or stage not in STAGES:
            continue
        error = row.get("structured_error")
        text = row.get("response_text")
        rows.append(
            {
                "stage": stage,
                "repairs": row.get("structured_repairs") or [],
                "error": error if isinstance(error, str) and error else None,
                "text": text if isinstance(text, str) else "",
            }
        )
    return taxonomy(rows, top=top)
