"""The call log: every call appended to SQLite, readable back as a pandas DataFrame.

The schema evolves through an append-only list of migrations (never edit one that shipped;
add a new one). The file lives in ``$LLMKIT_HOME`` or the per-user data directory.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from llmkit._exceptions import LLMCallError
from llmkit.llm._result import Attempt, CallResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CallLog", "LogTarget", "default_log_path", "llmkit_home", "open_log", "read_log"]

LogTarget: TypeAlias = "bool | str | Path | CallLog | None"


def llmkit_home() -> Path:
    """``$LLMKIT_HOME``, else ``$XDG_DATA_HOME/llmkit``, else ``~/.local/share/llmkit``."""
    if env := os.environ.get("LLMKIT_HOME"):
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "llmkit"


def default_log_path() -> Path:
    return llmkit_home() / "calls.db"


def _m001_calls(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            base_url TEXT NOT NULL,
            model TEXT,
            request_json TEXT NOT NULL,
            response_id TEXT,
            response_text TEXT,
            reasoning_text TEXT,
            finish_reason TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            token_source TEXT,
            streamed INTEGER,
            ttfb_ms REAL, ttft_ms REAL, ttfr_ms REAL, e2e_ms REAL,
            tpot_ms REAL, mean_itl_ms REAL, output_tps REAL,
            attempts INTEGER NOT NULL,
            attempts_json TEXT NOT NULL,
            error_type TEXT,
            error TEXT
        )
        """
    )
    db.execute("CREATE INDEX calls_started ON calls(started_at)")


def _m002_structured(db: sqlite3.Connection) -> None:
    for column in ("structured_stage TEXT", "structured_repairs TEXT", "structured_error TEXT"):
        db.execute(f"ALTER TABLE calls ADD COLUMN {column}")


# Append-only: the index + 1 is the schema version stored in PRAGMA user_version.
MIGRATIONS: Sequence[Callable[[sqlite3.Connection], None]] = (_m001_calls, _m002_structured)


class CallLog:
    """An append-only SQLite log of model calls (WAL mode, safe across threads)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_log_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    migration(self._db)
                    self._db.execute(f"PRAGMA user_version = {number}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, row: dict[str, Any]) -> int:
        """Insert one row (column -> value); returns its id."""
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._lock:
            cur = self._db.execute(
                f"INSERT INTO calls ({cols}) VALUES ({marks})", list(row.values())
            )
            return int(cur.lastrowid or 0)

    def append_call(
        self,
        *,
        base_url: str,
        started_at: float,
        request: dict[str, Any],
        result: CallResult | None,
        attempts: Sequence[Attempt],
        error: LLMCallError | None,
        structured: dict[str, Any] | None = None,
    ) -> int:
        row: dict[str, Any] = {
            "started_at": started_at,
            "base_url": base_url,
            "model": str(request.get("model")),
            "request_json": json.dumps(request, default=str),
            "attempts": len(attempts),
            "attempts_json": json.dumps([a.to_dict() for a in attempts], default=str),
        }
        if result is not None:
            usage = result.usage or {}
            timing = result.timing
            row.update(
                model=result.model,
                response_id=result.response_id,
                response_text=result.text,
                reasoning_text=result.reasoning,
                finish_reason=result.finish_reason,
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=timing.output_tokens,
                token_source=timing.token_source,
                streamed=int(timing.streamed),
                ttfb_ms=timing.ttfb_ms,
                ttft_ms=timing.ttft_ms,
                ttfr_ms=timing.ttfr_ms,
                e2e_ms=timing.e2e_ms,
                tpot_ms=timing.tpot_ms,
                mean_itl_ms=timing.mean_itl_ms,
                output_tps=timing.output_tps,
            )
        if error is not None:
            row.update(error_type=type(error).__name__, error=str(error))
        if structured is not None:
            row.update(
                structured_stage=structured.get("stage"),
                structured_repairs=json.dumps(list(structured.get("repairs") or [])),
                structured_error=structured.get("error"),
            )
        return self.append(row)

    def record_structured(self, response_id: str | None, outcome: dict[str, Any]) -> None:
        """Attach a structured-output outcome to the logged call with this response id."""
        if response_id is None:
            return
        with self._lock:
            self._db.execute(
                "UPDATE calls SET structured_stage = ?, structured_repairs = ?, structured_error = ?"
                " WHERE id = (SELECT MAX(id) FROM calls WHERE response_id = ?)",
                (
                    outcome.get("stage"),
                    json.dumps(list(outcome.get("repairs") or [])),
                    outcome.get("error"),
                    response_id,
                ),
            )

    def to_frame(self, limit: int | None = None) -> pd.DataFrame:
        import pandas as pd

        query = "SELECT * FROM calls ORDER BY id"
        if limit is not None:
            query = f"SELECT * FROM (SELECT * FROM calls ORDER BY id DESC LIMIT {int(limit)}) ORDER BY id"
        with self._lock:
            return pd.read_sql_query(query, self._db)


def read_log(path: str | Path | None = None, limit: int | None = None) -> pd.DataFrame:
    """The call log as a DataFrame, one row per call (most recent last)."""
    log = CallLog(path)
    try:
        return log.to_frame(limit)
    finally:
        log.close()


def open_log(target: bool | str | Path | CallLog | None) -> CallLog | None:
    """``None``/``False``: no log unless ``LLMKIT_LOG`` is set; ``True``: default path."""
    if isinstance(target, CallLog):
        return target
    if target is None:
        env = os.environ.get("LLMKIT_LOG", "")
        if env.lower() in ("", "0", "false", "no"):
            return None
        target = True if env.lower() in ("1", "true", "yes") else env
    if target is False:
        return None
    return CallLog(None if target is True else target)
