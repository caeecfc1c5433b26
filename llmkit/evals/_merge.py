"""``llmkit eval merge``: shard results (``-o DIR`` of ``--shard i/n`` runs) back into one run.

Each shard's folder holds ``summary.json`` (with ``"shard": {"index", "count", "tags"}``) and
``results.jsonl``. Merging checks that the folders are the shards 1..n of one suite, each
once, that every case the suite selects ran in exactly the shard it hashes to, and rebuilds
the run in the suite's case order, so its reports (summary, JUnit, Markdown, the baseline
comparison) are those of the same suite run unsharded.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmkit._exceptions import ConfigError
from llmkit._jsonl import json_lines
from llmkit.evals._runner import CaseRun, EvalRun, ScoreRecord
from llmkit.evals._shard import Shard
from llmkit.evals._suite import Suite, load_suite

__all__ = [
    "ShardResult",
    "is_matrix_result",
    "load_shard_result",
    "merge_matrix_shards",
    "merge_shards",
]

_RECORD_FIELDS = {f.name for f in dataclasses.fields(ScoreRecord)}


@dataclasses.dataclass(frozen=True)
class ShardResult:
    """One shard's folder: its summary, its shard and its score records."""

    path: Path
    summary: dict[str, Any]
    shard: Shard
    tags: tuple[str, ...]
    records: tuple[ScoreRecord, ...]


def _record(row: Any, where: str) -> ScoreRecord:
    if not isinstance(row, dict) or not {"case", "scorer"} <= set(row):
        raise ConfigError(f"{where}: expected a results.jsonl record (case, scorer, ...)")
    data = {k: v for k, v in row.items() if k in _RECORD_FIELDS}
    data["tags"] = tuple(data.get("tags") or ())
    data["repairs"] = tuple(data.get("repairs") or ())
    try:
        return ScoreRecord(**data)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_shard_result(folder: str | Path) -> ShardResult:
    """Read one shard's ``summary.json`` and ``results.jsonl``.

    Raises:
        ConfigError: a file is missing or malformed, or the run was not sharded.
    """
    folder = Path(folder)
    summary_file = folder / "summary.json"
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ConfigError(f"{exc.filename}: not found (write it with llmkit eval -o DIR)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{folder}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{summary_file}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("shard"), dict):
        raise ConfigError(f"{summary_file}: not a shard's summary (run with --shard i/n -o DIR)")
    info = summary["shard"]
    try:
        shard = Shard(int(info["index"]), int(info["count"]))
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{summary_file}: shard: expected index and count") from None
    records = []
    for where, row in json_lines(lines, folder / "results.jsonl"):
        records.append(_record(row, where))
    return ShardResult(folder, summary, shard, tuple(info.get("tags") or ()), tuple(records))


def _check_set(shards: Sequence[ShardResult]) -> None:
    first = shards[0]
    for s in shards[1:]:
        for key in ("suite", "mode"):
            if s.summary.get(key) != first.summary.get(key):
                raise ConfigError(
                    f"{s.path}: {key} {s.summary.get(key)!r} differs from "
                    f"{first.path}'s {first.summary.get(key)!r}"
                )
        if s.shard.count != first.shard.count or s.tags != first.tags:
            raise ConfigError(
                f"{s.path}: shard {s.shard} (tags {list(s.tags)}) is not of the same split as "
                f"{first.path}'s {first.shard} (tags {list(first.tags)})"
            )
    seen: dict[int, Path] = {}
    for s in shards:
        if s.shard.index in seen:
            raise ConfigError(f"{s.path}: shard {s.shard} given twice (also {seen[s.shard.index]})")
        seen[s.shard.index] = s.path
    missing = [str(i) for i in range(1, first.shard.count + 1) if i not in seen]
    if missing:
        raise ConfigError(
            f"missing shard(s) {', '.join(f'{i}/{first.shard.count}' for i in missing)}"
        )


def merge_shards(folders: Sequence[str | Path], suite: Suite | None = None) -> EvalRun:
    """One run from the result folders of shards 1..n of a suite.

    Args:
        folders: the ``-o DIR`` folders of ``llmkit eval --shard i/n`` runs.
        suite: the suite (default: the ``suite_file`` the summaries name).

    Raises:
        ConfigError: not a complete set of shards of one suite, or a case missing, doubled,
            unknown to the suite, or in a shard it does not hash to.
    """
    if not folders:
        raise ConfigError("no shard results given")
    shards = [load_shard_result(f) for f in folders]
    _check_set(shards)
    if suite is None:
        suite = load_suite(str(shards[0].summary.get("suite_file") or ""))
    wanted = [c for c in suite.select(set(shards[0].tags))]
    by_case: dict[str, list[ScoreRecord]] = {}
    origin: dict[str, Path] = {}
    outputs: dict[str, tuple[str, ...]] = {}
    for s in shards:
        for case_id, entry in (s.summary.get("per_case") or {}).items():
            if isinstance(entry, dict) and isinstance(entry.get("outputs"), list):
                outputs[case_id] = tuple(str(o) for o in entry["outputs"])
        for record in s.records:
            if record.case in origin and origin[record.case] != s.path:
                raise ConfigError(f"case {record.case} is in {origin[record.case]} and {s.path}")
            if not s.shard.holds(record.case):
                raise ConfigError(
                    f"{s.path}: case {record.case} does not belong to shard {s.shard}"
                )
            origin[record.case] = s.path
            by_case.setdefault(record.case, []).append(record)
    known = {c.id for c in wanted}
    unknown = sorted(set(by_case) - known)
    if unknown:
        raise ConfigError(
            f"{origin[unknown[0]]}: case(s) {', '.join(unknown)} not selected by {suite.path} "
            "(the suite changed since the shards ran?)"
        )
    absent = [c.id for c in wanted if c.id not in by_case]
    if absent:
        raise ConfigError(f"case(s) {', '.join(absent)} ran in no shard")
    runs = []
    for case in wanted:
        records = tuple(by_case[case.id])
        error = next((r.error for r in records if r.error), None)
        runs.append(CaseRun(case, records, error, outputs.get(case.id, ())))
    seconds = sum(float(s.summary.get("seconds") or 0.0) for s in shards)
    return EvalRun(suite, str(shards[0].summary.get("mode", "replay")), tuple(runs), seconds)


def is_matrix_result(folder: str | Path) -> bool:
    """Whether ``folder`` holds a matrix's results (``matrix.json`` and a folder per column)."""
    return (Path(folder) / "matrix.json").is_file()


def merge_matrix_shards(
    folders: Sequence[str | Path], columns: Sequence[Any]
) -> dict[str, EvalRun]:
    """Each matrix column's run, merged from the column's folder in every shard's results.

    Args:
        folders: the ``-o DIR`` folders of ``llmkit eval --shard i/n`` runs of a matrix suite.
        columns: the suite's columns (:func:`~llmkit.evals.matrix_columns`).

    Returns:
        the merged run of each column, by column name.

    Raises:
        ConfigError: a folder is not a matrix's results, or lacks a column.
    """
    for folder in folders:
        if not is_matrix_result(folder):
            raise ConfigError(f"{folder}: not a matrix's results (no matrix.json)")
    merged = {}
    for col in columns:
        parts = [Path(f) / col.slug for f in folders]
        for part in parts:
            if not part.is_dir():
                raise ConfigError(f"{part}: no results for column {col.name}")
        merged[col.name] = merge_shards(parts, col.suite)
    return merged
