"""The call log: every call appended to SQLite, read back as dicts or a pandas DataFrame.

The schema evolves through an append-only list of migrations (never edit one that shipped;
add a new one), run under the write lock. The file lives in ``$LLMKIT_HOME`` or the per-user
data directory. Writing the log never fails a call that succeeded (see :class:`CallLog`).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from llmkit._exceptions import ConfigError, LLMCallError
from llmkit._home import llmkit_home
from llmkit._migrate import apply_migrations
from llmkit.llm._result import Attempt, CallResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CallLog",
    "LogTarget",
    "default_log_path",
    "llmkit_home",
    "open_log",
    "read_calls",
    "read_log",
]

LogTarget: TypeAlias = "bool | str | Path | CallLog | None"

logger = logging.getLogger("llmkit.llm")


def default_log_path() -> Path:
    """Where the call log lives: ``$LLMKIT_HOME/calls.db``."""
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


def _m003_prompt_template(db: sqlite3.Connection) -> None:
    # Which prompt template (and version) a call was rendered from, to split ratings by it.
    for column in ("prompt_name TEXT", "prompt_version TEXT"):
        db.execute(f"ALTER TABLE calls ADD COLUMN {column}")


def _m004_variant(db: sqlite3.Connection) -> None:
    # The canary variant a call served (llmkit.watch.variant), for `llmkit watch compare`.
    db.execute("ALTER TABLE calls ADD COLUMN variant TEXT")


# Append-only: the index + 1 is the schema version stored in PRAGMA user_version.
MIGRATIONS: Sequence[Callable[[sqlite3.Connection], None]] = (
    _m001_calls,
    _m002_structured,
    _m003_prompt_template,
    _m004_variant,
)

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_MAX_PENDING = 10_000
_UNWRITTEN: set[CallLog] = set()  # logs holding rows for later: written at exit


_NOT_A_DATABASE = 26  # SQLITE_NOTADB
_CANTOPEN, _READONLY = 14, 8  # primary result codes


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) in _BUSY


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the schema up to date. Runs inside the writer's ``BEGIN IMMEDIATE``: the
    version is read under the lock, so two processes never run the same migration."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    apply_migrations(db, MIGRATIONS, version, _record_version)


def _record_version(db: sqlite3.Connection, number: int) -> None:
    db.execute(f"PRAGMA user_version = {number}")


class CallLog:
    """An append-only SQLite log of model calls (WAL mode, safe across threads and processes).

    Writing the log never fails a call. A row that cannot be written within
    ``write_timeout`` (another writer holds the lock) is kept and written with the next
    row, at :meth:`close` or at interpreter exit (waiting up to ``flush_timeout``). If it
    still cannot be written (lock, read-only file, full disk), one message goes to the
    ``llmkit.llm`` logger and the rows are dropped; the answers were already returned.

    Args:
        path: the SQLite file (default :func:`default_log_path`); created on first write.
        write_timeout: seconds one call may wait for the lock.
        flush_timeout: seconds :meth:`close` (and exit) may wait for it.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        write_timeout: float = 1.0,
        flush_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path) if path is not None else default_log_path()
        self.write_timeout = write_timeout
        self.flush_timeout = flush_timeout
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._ready = False  # schema known to be current
        self._pending: list[dict[str, Any] | tuple[Any, ...]] = []  # inserts, updates
        self._dropped = 0
        self._reported = False
        self._closed = False
        with self._lock:
            self._write(self.write_timeout, final=False)  # create and migrate now if we can

    @property
    def pending(self) -> int:
        """Rows (and updates) kept in memory until the log can be written."""
        return len(self._pending)

    # -- writing ------------------------------------------------------------------------------
    def _connect(self, timeout: float) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=timeout, check_same_thread=False, isolation_level=None
            )
            try:
                db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):  # busy: another process is setting it (it persists)
                    db.close()
                    raise
            self._db = db
        self._db.execute(f"PRAGMA busy_timeout = {max(1, int(timeout * 1000))}")
        return self._db

    def _flush(self, timeout: float) -> int | None:
        """Write every pending row in one transaction; return the last inserted id."""
        db = self._connect(timeout)
        last: int | None = None
        db.execute("BEGIN IMMEDIATE")
        try:
            if not self._ready:
                _migrate(db)
            for op in self._pending:
                if isinstance(op, dict):
                    cols = ", ".join(op)
                    marks = ", ".join("?" for _ in op)
                    cur = db.execute(
                        f"INSERT INTO calls ({cols}) VALUES ({marks})", list(op.values())
                    )
                    last = int(cur.lastrowid or 0)
                else:
                    db.execute(_UPDATE_STRUCTURED, op)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._ready = True
        self._pending.clear()
        return last

    def _write(self, timeout: float, *, final: bool) -> int | None:
        """Try to write what is pending; never raises for a database or file problem."""
        if self._ready and not self._pending:
            return None
        try:
            last = self._flush(timeout)
        except (sqlite3.Error, OSError) as exc:
            if final:
                self._report(exc, giving_up=True)
                self._pending.clear()
            else:
                _UNWRITTEN.add(self)
                if not _is_busy(exc):
                    self._report(exc, giving_up=False)
            return None
        self._reported = False
        _UNWRITTEN.discard(self)
        return last

    def _report(self, exc: BaseException, *, giving_up: bool) -> None:
        """One message per episode through ``logging`` (never ``warnings``: no call fails)."""
        rows = sum(isinstance(op, dict) for op in self._pending) + self._dropped
        code = getattr(exc, "sqlite_errorcode", None)
        cannot = (
            "cannot be opened for writing (a read-only file system or directory?)"
            if code is not None and code & 0xFF in (_CANTOPEN, _READONLY)
            else "cannot be written"
        )
        if giving_up:
            what = f"{rows} call(s) were not written to the call log {self.path}: it {cannot}"
        else:
            what = (
                f"the call log {self.path} {cannot}; its rows are kept, retried"
                " with the next call, and dropped at exit if it still fails"
            )
        # Said once: the first failure warns, the rest of the episode is debug detail.
        level = logging.DEBUG if self._reported else logging.WARNING
        self._reported = True
        logger.log(level, "llmkit: %s: %s", what, exc)

    def _keep(self, op: dict[str, Any] | tuple[Any, ...]) -> None:
        if len(self._pending) >= _MAX_PENDING:
            self._pending.pop(0)
            self._dropped += 1
        self._pending.append(op)

    def flush(self, timeout: float | None = None) -> bool:
        """Write what is pending now (waiting up to ``timeout``); ``True`` if nothing is left."""
        with self._lock:
            self._write(self.flush_timeout if timeout is None else timeout, final=False)
            return not self._pending

    def close(self) -> None:
        """Write what is pending (a last try) and close the file."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._pending:
                self._write(self.flush_timeout, final=True)
            if self._db is not None:
                self._db.close()
                self._db = None
        _UNWRITTEN.discard(self)

    def append(self, row: dict[str, Any]) -> int | None:
        """Insert one row (column -> value); its id, or ``None`` if it was kept for later."""
        with self._lock:
            self._closed = False  # a write after close opens the file again
            self._keep(dict(row))
            return self._write(self.write_timeout, final=False)

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
        template: tuple[str, str] | None = None,
        variant: str | None = None,
    ) -> int | None:
        """Append one call (request, result or error, attempts) to the log; never raises."""
        row: dict[str, Any] = {
            "started_at": started_at,
            "base_url": base_url,
            "model": str(request.get("model")),
            "request_json": json.dumps(request, default=str),
            "attempts": len(attempts),
            "attempts_json": json.dumps([a.to_dict() for a in attempts], default=str),
        }
        if template is not None:
            row.update(prompt_name=template[0], prompt_version=template[1])
        if variant is not None:
            row["variant"] = variant
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
        values = {
            "structured_stage": outcome.get("stage"),
            "structured_repairs": json.dumps(list(outcome.get("repairs") or [])),
            "structured_error": outcome.get("error"),
        }
        with self._lock:
            for op in reversed(self._pending):  # still waiting to be written: patch it
                if isinstance(op, dict) and op.get("response_id") == response_id:
                    op.update(values)
                    return
            self._keep((*values.values(), response_id))
            self._write(self.write_timeout, final=False)

    # -- reading ------------------------------------------------------------------------------
    def to_frame(self, limit: int | None = None) -> pd.DataFrame:
        """Every written call as a DataFrame (writes what is pending first)."""
        self.flush()
        return read_log(self.path, limit)


_UPDATE_STRUCTURED = (
    "UPDATE calls SET structured_stage = ?, structured_repairs = ?, structured_error = ?"
    " WHERE id = (SELECT MAX(id) FROM calls WHERE response_id = ?)"
)


@atexit.register
def _flush_at_exit() -> None:
    for log in list(_UNWRITTEN):
        log.close()


def read_calls(path: str | Path | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """The call log's rows as dicts, one per call (most recent last); no pandas needed.

    Reading never creates a file.

    Args:
        path: the log (default: :func:`default_log_path`).
        limit: only the most recent ``limit`` calls.

    Raises:
        ConfigError: there is no log at ``path``, or the file is not an llmkit call log.
    """
    with _reading(path, limit) as (db, query):
        cursor = db.execute(query)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def read_log(path: str | Path | None = None, limit: int | None = None) -> pd.DataFrame:
    """The call log as a pandas DataFrame, one row per call (most recent last).

    pandas comes with the ``bench``, ``annotate``, ``eval`` and ``watch`` extras (or
    ``pip install pandas``); :func:`read_calls` reads the same rows without it. Reading
    never creates a file.

    Raises:
        ConfigError: there is no log at ``path``, the file is not an llmkit call log, or
            pandas is not installed.
    """
    try:
        import pandas as pd
    except ImportError:
        raise ConfigError(
            "read_log returns a pandas DataFrame and pandas is not installed: "
            "pip install pandas (read_calls returns the rows as dicts without it)"
        ) from None
    with _reading(path, limit) as (db, query):
        try:
            return pd.read_sql_query(query, db)
        except pd.errors.DatabaseError as exc:  # pandas' wrapper of the sqlite3 error
            raise sqlite3.DatabaseError(str(exc)) from None


@contextmanager
def _reading(
    path: str | Path | None, limit: int | None
) -> Iterator[tuple[sqlite3.Connection, str]]:
    """The log opened read-only, checked to be a call log, and the query of its rows."""
    target = Path(path) if path is not None else default_log_path()
    if not target.is_file():
        raise ConfigError(f"no call log at {target} (calls are logged with log=True)")
    query = "SELECT * FROM calls ORDER BY id"
    if limit is not None:
        query = (
            f"SELECT * FROM (SELECT * FROM calls ORDER BY id DESC LIMIT {int(limit)}) ORDER BY id"
        )
    db = _open_for_reading(target)
    try:
        try:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calls'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) == _NOT_A_DATABASE:
                raise ConfigError(f"{target} is not an llmkit call log ({exc})") from None
            raise ConfigError(f"cannot read the call log {target}: {exc}") from None
        if not found:
            raise ConfigError(f"{target} is not an llmkit call log (it has no calls table)")
        try:
            yield db, query
        except sqlite3.Error as exc:  # a table named calls that is not llmkit's
            raise ConfigError(f"cannot read the call log {target}: {exc}") from None
    finally:
        db.close()


def _open_for_reading(target: Path) -> sqlite3.Connection:
    """``target`` opened read-only: never created, never written, even on a read-only disk.

    A WAL database needs its ``-shm`` file even to be read; on a read-only file system
    that file cannot be made, so the database is then opened as immutable (nobody can be
    writing it there either).
    """
    uri = target.resolve().as_uri()
    last: sqlite3.Error | None = None
    for mode in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=10)
        except sqlite3.Error as exc:
            last = exc
            continue
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) == _NOT_A_DATABASE:
                return db  # the caller names it: not an llmkit call log
            db.close()
            last = exc
    raise ConfigError(f"cannot open the call log {target} for reading: {last}") from None


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
