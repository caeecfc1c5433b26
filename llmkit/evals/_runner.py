"""Run a suite: each case × repeat through ``llmkit.Client`` (replay, record or live), then score.

Replay plays one cassette per case through the client's own replay transport. Record and
live run ``concurrency`` cases at once in threads, each case's calls filed with its own
recorder (see :mod:`llmkit.evals._transport`: nothing is patched process-wide).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llmkit import _observe
from llmkit._exceptions import ConfigError, LLMKitError
from llmkit._version import __version__
from llmkit.evals._cassettes import (
    CassetteError,
    Recorder,
    case_timing,
    cassette_path,
    load_cassette,
    write_cassette,
)
from llmkit.evals._reducers import DEFAULT_REDUCER, reduce_repeats
from llmkit.evals._scorers import Score, ScoreContext, Scorer, build_scorer
from llmkit.evals._suite import Case, Suite
from llmkit.evals._transport import (
    RecordingTransport,
    ReplayTransport,
    Tape,
    capture,
    unmatched,
)

if TYPE_CHECKING:
    from llmkit.llm import Timeouts

__all__ = [
    "CaseRun",
    "EvalInterrupted",
    "EvalRun",
    "Mode",
    "ScoreRecord",
    "cassette_client",
    "cassettes_fingerprint",
    "run_suite",
    "suite_shape",
]

Mode = Literal["replay", "record", "live"]
MODES: tuple[str, ...] = ("replay", "record", "live")
# Replay never connects (the replay transport answers); were it to, this port is closed.
_REPLAY_URL = "http://127.0.0.1:9/v1"


@dataclass(frozen=True)
class ScoreRecord:
    """One line of ``results.jsonl``: one scorer on one repeat of one case."""

    suite: str
    case: str
    repeat: int
    scorer: str
    kind: str
    score: float
    passed: bool
    value: Any = None
    detail: str = ""
    tags: tuple[str, ...] = ()
    stage: str | None = None
    repairs: tuple[str, ...] = ()
    error: str | None = None
    timing: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready data (one row of a DataFrame)."""
        return {
            "suite": self.suite,
            "case": self.case,
            "repeat": self.repeat,
            "scorer": self.scorer,
            "kind": self.kind,
            "score": self.score,
            "value": _jsonable(self.value),
            "passed": self.passed,
            "detail": self.detail,
            "tags": list(self.tags),
            "stage": self.stage,
            "repairs": list(self.repairs),
            "error": self.error,
            "timing": self.timing,
        }


def _jsonable(value: Any) -> Any:
    from llmkit.structured import to_jsonable

    return to_jsonable(value)


@dataclass(frozen=True)
class CaseRun:
    """All repeats of one case: its records and, if it could not run, why."""

    case: Case
    records: tuple[ScoreRecord, ...]
    error: str | None = None
    outputs: tuple[str, ...] = ()  # the model's answer of each repeat (for the report)

    @property
    def passed(self) -> bool:
        """Whether the case ran without error and every scorer passed (repeats reduced)."""
        by_scorer: dict[str, list[ScoreRecord]] = {}
        for r in self.records:
            by_scorer.setdefault(r.scorer, []).append(r)
        return self.error is None and all(
            reduce_repeats(self.case.reducer, [r.score for r in rs], [r.passed for r in rs])[1]
            for rs in by_scorer.values()
        )


@dataclass(frozen=True)
class EvalRun:
    """The outcome of one ``llmkit eval``: per-case runs, the flat records and the summary."""

    suite: Suite
    mode: str
    cases: tuple[CaseRun, ...]
    seconds: float

    @property
    def records(self) -> list[ScoreRecord]:
        """Every score of every case, flattened."""
        return [r for c in self.cases for r in c.records]

    @property
    def errors(self) -> list[str]:
        """One line per case that could not run, naming the case."""
        return [f"case {c.case.id}: {c.error}" for c in self.cases if c.error]

    @property
    def pass_rate(self) -> float:
        """The fraction of cases that passed (0.0 for an empty run)."""
        return sum(c.passed for c in self.cases) / len(self.cases) if self.cases else 0.0

    def summary(self) -> dict[str, Any]:
        """The summary JSON (see ``/README.md`` "Regression evaluation"); a baseline is one."""
        scorers: dict[str, dict[str, Any]] = {}
        per_case: dict[str, Any] = {}
        for c in self.cases:
            entry: dict[str, Any] = {
                "tags": list(c.case.tags),
                "passed": c.passed,
                "error": c.error,
                "scores": {},
            }
            by_scorer: dict[str, list[ScoreRecord]] = {}
            for r in c.records:
                by_scorer.setdefault(r.scorer, []).append(r)
            for name, recs in by_scorer.items():
                scores = [r.score for r in recs]
                passes = [r.passed for r in recs]
                score, ok = reduce_repeats(c.case.reducer, scores, passes)
                entry["scores"][name] = {
                    "kind": recs[0].kind,
                    "score": score,
                    "passed": ok,
                    "n": len(recs),
                    "scores": scores,
                    "passes": passes,
                }
                agg = scorers.setdefault(
                    name, {"kind": recs[0].kind, "n": 0, "sum": 0.0, "passed": 0}
                )
                if c.case.reducer != DEFAULT_REDUCER:
                    entry["scores"][name]["reducer"] = c.case.reducer
                agg["n"] += 1
                agg["sum"] += score
                agg["passed"] += ok
            if c.outputs:
                entry["outputs"] = list(c.outputs)
            per_case[c.case.id] = entry
        for agg in scorers.values():
            agg["mean"] = agg.pop("sum") / agg["n"]
            agg["pass_rate"] = agg.pop("passed") / agg["n"]
        passed = sum(c.passed for c in self.cases)
        rate = self.pass_rate
        errors = self.errors
        exit_code = 2 if errors else (0 if rate >= self.suite.min_pass_rate else 1)
        return {
            "format": "llmkit.eval.summary/1",
            "suite": self.suite.name,
            "suite_file": str(self.suite.path),
            "mode": self.mode,
            "llmkit_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(self.seconds, 3),
            "cases": len(self.cases),
            "records": sum(len(c.records) for c in self.cases),
            "passed_cases": passed,
            "pass_rate": round(rate, 6),
            "min_pass_rate": self.suite.min_pass_rate,
            "ok": exit_code == 0,
            "exit_code": exit_code,
            "errors": errors,
            "scorers": scorers,
            "per_case": per_case,
            "baseline_settings": self.suite.baseline,
            "suite_shape": suite_shape(self.suite),
            "fingerprints": {
                "suite": _digest(suite_shape(self.suite)),
                # a live run plays no cassette
                "cassettes": None
                if self.mode == "live"
                else cassettes_fingerprint(self.suite, [c.case.id for c in self.cases]),
            },
            "comparison": None,
        }


def suite_shape(suite: Suite) -> dict[str, Any]:
    """What a baseline must share with a run to be compared: the suite and its scorers.

    Cases may come and go (they are reported and left out); prompts and settings are what
    a baseline judges, so they are not part of the shape.
    """
    specs = {(s.name, s.type) for s in suite.scorers}
    specs |= {(s.name, s.type) for c in suite.cases for s in c.scorers}
    return {"suite": suite.name, "scorers": sorted(f"{n} ({t})" for n, t in specs)}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def cassettes_fingerprint(suite: Suite, case_ids: Sequence[str]) -> str | None:
    """A digest of the cases' cassette files (``None`` when none exists: a live run)."""
    h = hashlib.sha256()
    found = False
    for case_id in sorted(case_ids):
        try:
            data = cassette_path(suite.cassette_dir, case_id).read_bytes()
        except OSError:
            continue
        found = True
        h.update(case_id.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:16] if found else None


class _CaseRunner:
    def __init__(self, suite: Suite, client: Any) -> None:
        self.suite = suite
        self.client = client
        self.scorers: list[tuple[str, str, Scorer]] = []
        self._messages: dict[str, list[dict[str, str]]] = {}
        self._by_case: dict[str, list[tuple[str, str, Scorer]]] = {}
        shared = [(s.name, s.type, build_scorer(s, suite)) for s in suite.scorers]
        for case in suite.cases:
            own = [(s.name, s.type, build_scorer(s, suite)) for s in case.scorers]
            self._by_case[case.id] = shared + own

    def call(self, case: Case) -> tuple[str, Any]:
        """One model answer for ``case``: (text, structured result or None)."""
        suite = self.suite
        messages = self.messages(case)
        if suite.structured:
            parsed = self.client.structured(
                messages,
                suite.prompt.schema,
                format=suite.prompt.format,
                instructions=False,  # the template's render already added them
                hints=list(suite.prompt.hints) or True,
                max_attempts=int(suite.model.get("max_attempts", 2)),
                model=suite.model_name,
                **{k: v for k, v in suite.params.items() if k != "max_attempts"},
            )
            return parsed.raw, parsed
        result = self.client.chat(messages, model=suite.model_name, **suite.params)
        return result.text, None

    def messages(self, case: Case) -> list[dict[str, str]]:
        """The case's rendered messages, rendered once (format instructions cost a YAML dump)."""
        cached = self._messages.get(case.id)
        if cached is None:
            cached = self._messages[case.id] = self.suite.prompt.render(**case.vars)
        return [dict(m) for m in cached]

    def score(
        self, case: Case, repeat: int, text: str, parsed: Any, timing: dict[str, Any]
    ) -> list[ScoreRecord]:
        extra = {"messages": self.messages(case)}
        ctx = ScoreContext(case, text, parsed, timing, self.suite, self.client, repeat, extra)
        out = []
        for name, kind, scorer in self._by_case[case.id]:
            try:
                s = scorer(ctx)
            except LLMKitError:
                raise
            except Exception as exc:
                raise ConfigError(f"scorer {name!r} raised {type(exc).__name__}: {exc}") from exc
            if not isinstance(s, Score):
                raise ConfigError(f"scorer {name!r} returned {type(s).__name__}, not a Score")
            out.append(
                ScoreRecord(
                    suite=self.suite.name,
                    case=case.id,
                    repeat=repeat,
                    scorer=name,
                    kind=kind,
                    score=min(1.0, max(0.0, float(s.score))),
                    passed=bool(s.passed),
                    value=s.value,
                    detail=s.detail,
                    tags=case.tags,
                    stage=parsed.stage if parsed is not None else None,
                    repairs=tuple(parsed.repairs) if parsed is not None else (),
                    timing=timing,
                )
            )
        if _observe.OBSERVERS:
            variant = _observe.VARIANT.get()
            for rec in out:
                _observe.emit(
                    _observe.EvalScoreEvent(rec.suite, rec.case, rec.scorer, rec.score, variant)
                )
        return out

    def failed(self, case: Case, error: str) -> CaseRun:
        recs = tuple(
            ScoreRecord(
                self.suite.name, case.id, 0, name, kind, 0.0, False, tags=case.tags, error=error
            )
            for name, kind, _ in self._by_case[case.id]
        )
        return CaseRun(case, recs, error)

    # -- modes ------------------------------------------------------------------------------
    def replay(self, case: Case) -> CaseRun:
        path = cassette_path(self.suite.cassette_dir, case.id)
        records: list[ScoreRecord] = []
        outputs: list[str] = []
        try:
            tape = Tape.load(path)
            timing = case_timing(list(tape.metadata.get("timings") or []))
            with self.client.replay.playing(tape):
                for repeat in range(case.repeat):
                    text, parsed = self.call(case)
                    outputs.append(text)
                    records += self.score(case, repeat, text, parsed, timing)
            unplayed = tape.unplayed()
            if unplayed:
                raise CassetteError(
                    f"{path} has {unplayed} unplayed interaction(s): the case no longer makes "
                    f"those calls; re-record it with --refresh {case.id}"
                )
        except LLMKitError as exc:  # CassetteError included
            missing = unmatched(exc)
            if missing is None:
                return self.failed(case, str(exc))
            return self.failed(case, f"{missing}; record it with --mode record --refresh {case.id}")
        return CaseRun(case, tuple(records), outputs=tuple(outputs))

    def live(self, case: Case, write: bool) -> CaseRun:
        key = getattr(self.client.endpoint, "api_key", "")
        rec = Recorder(case.id, secrets=(key,))
        records: list[ScoreRecord] = []
        try:
            with capture(rec):
                results = [self.call(case) for _ in range(case.repeat)]
                timing = case_timing(rec.timings)
                rec.phase = "scorer"  # a judge's calls go in the case's cassette too
                for repeat, (text, parsed) in enumerate(results):
                    records += self.score(case, repeat, text, parsed, timing)
        except LLMKitError as exc:
            return self.failed(case, str(exc))
        if write:
            write_cassette(
                cassette_path(self.suite.cassette_dir, case.id), rec, suite=self.suite.name
            )
        return CaseRun(case, tuple(records), outputs=tuple(text for text, _ in results))


def _client(
    mode: str,
    base_url: str | None,
    api_key: str | None,
    suite: Suite,
    timeouts: Timeouts | None = None,
) -> Any:
    """A client whose transport replays (``.replay``) or records (calls under ``capture``)."""
    from llmkit.llm import Client, RetryPolicy

    if mode == "replay":
        replay = ReplayTransport()
        # as many attempts as recording may have made (a recorded 429 then 200), no waiting
        policy = RetryPolicy(initial_wait=0.0, max_wait=0.0, jitter=False)
        client: Any = Client(
            _REPLAY_URL, "replay-needs-no-key", suite.model_name, retry=policy, transport=replay
        )
        client.replay = replay
        return client
    return Client(
        base_url, api_key, suite.model_name, timeouts=timeouts, wrap_transport=RecordingTransport
    )


def run_suite(
    suite: Suite,
    mode: str = "replay",
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    concurrency: int = 1,
    tags: Iterable[str] = (),
    refresh: Sequence[str] = (),
    cases: Sequence[str] = (),
    progress: Callable[[CaseRun], None] | None = None,
    timeouts: Timeouts | None = None,
) -> EvalRun:
    """Run ``suite`` and score every case.

    Args:
        suite: from :func:`load_suite`.
        mode: ``replay`` (cassettes, no network), ``record`` (call and write cassettes) or
            ``live`` (call, write nothing).
        base_url: the endpoint for record/live (else ``LLMKIT_BASE_URL``...).
        api_key: for record/live; never written (scrubbed from cassettes).
        concurrency: cases at once in record and live modes.
        tags: run only cases with one of these tags.
        refresh: record only these cases (the others replay).
        cases: run only these case ids.
        progress: called after each case.
        timeouts: the client's limits for record and live calls (default
            :class:`~llmkit.llm.Timeouts`: 600 s a call, retries included; 30 s stalled).

    Raises:
        ConfigError: bad mode, unknown case in ``refresh``/``cases``, no endpoint for record/live.
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    known = {c.id for c in suite.cases}
    for name in [*refresh, *cases]:
        if name not in known:
            raise ConfigError(f"{suite.path}: no case {name!r}")
    chosen = [c for c in suite.select(set(tags)) if not cases or c.id in cases]
    if not chosen:
        raise ConfigError(f"{suite.path}: no case has tag(s) {', '.join(tags)}")
    started = time.perf_counter()
    to_record = set(refresh) if refresh else ({c.id for c in chosen} if mode == "record" else set())
    if mode == "live":
        to_record = set()
    replay_cases = [c for c in chosen if c.id not in to_record and mode != "live"]
    call_cases = [c for c in chosen if c.id in to_record or mode == "live"]
    done: dict[str, CaseRun] = {}

    def note(run: CaseRun) -> CaseRun:
        done[run.case.id] = run
        if progress is not None:
            progress(run)
        return run

    try:
        if replay_cases:
            client = _client("replay", None, None, suite)
            try:
                runner = _CaseRunner(suite, client)
                for case in replay_cases:
                    note(runner.replay(case))
            finally:
                client.close()
        if call_cases:
            client = _client("record", base_url, api_key, suite, timeouts)
            try:
                runner = _CaseRunner(suite, client)
                write = mode != "live"
                with ThreadPoolExecutor(max_workers=concurrency) as pool:
                    try:
                        for _ in pool.map(lambda c: note(runner.live(c, write)), call_cases):
                            pass
                    except KeyboardInterrupt:
                        # Cases not started never start; those under way finish (and write).
                        pool.shutdown(wait=True, cancel_futures=True)
                        raise
            finally:
                client.close()
    except KeyboardInterrupt as stop:
        finished = tuple(done[c.id] for c in chosen if c.id in done)
        recorded = [c.id for c in call_cases if c.id in done] if mode != "live" else []
        partial = EvalRun(suite, mode, finished, time.perf_counter() - started)
        raise EvalInterrupted(partial, recorded) from stop
    ordered = tuple(done[c.id] for c in chosen)
    return EvalRun(suite, mode, ordered, time.perf_counter() - started)


class EvalInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM (the signal's exception is ``__cause__``).

    Attributes:
        run: the cases that finished, as an :class:`EvalRun`.
        recorded: ids of the cases whose cassettes this run rewrote before it stopped.
    """

    def __init__(self, run: EvalRun, recorded: list[str]) -> None:
        super().__init__(f"{len(run.cases)} cases finished, {len(recorded)} cassettes rewritten")
        self.run = run
        self.recorded = recorded


def cassette_timings(suite: Suite, case_id: str) -> dict[str, Any]:
    """The recorded timing of one case (for reports), from its cassette's metadata."""
    data = load_cassette(cassette_path(suite.cassette_dir, case_id))
    return case_timing(
        list(((data.get("metadata") or {}).get("llmkit") or {}).get("timings") or [])
    )


_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


@contextlib.contextmanager
def cassette_client(
    suite: Suite,
    name: str,
    mode: str = "replay",
    *,
    base_url: str | None = None,
    api_key: str | None = None,
) -> Iterator[Any]:
    """An ``llmkit.Client`` whose calls replay from, or record to, ``<cassettes>/<name>.yaml``.

    For calls made outside a suite run (judge calibration, say). ``replay`` needs no URL or
    key and raises :class:`CassetteError` when the cassette is missing, a request has no
    recording, or recorded calls were left unplayed; ``record`` (re)writes the cassette;
    ``live`` writes nothing.

    Args:
        suite: whose cassette directory and model to use.
        name: the cassette's name, e.g. ``calibrate-tone/item-17`` (``/`` makes folders).
        mode: ``replay``, ``record`` or ``live``.
        base_url: endpoint for record and live.
        api_key: key for record and live (scrubbed from the cassette).
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not _NAME.match(name) or ".." in name.split("/"):
        raise ConfigError(f"cassette name {name!r}: letters, digits, '_', '.', '-' and '/' only")
    path = cassette_path(suite.cassette_dir, name)
    client = _client(mode, base_url, api_key, suite)
    try:
        if mode == "replay":
            tape = Tape.load(path)
            with client.replay.playing(tape):
                try:
                    yield client
                except LLMKitError as exc:
                    missing = unmatched(exc)
                    if missing is not None:
                        raise CassetteError(f"{missing}; record {name} again") from None
                    raise
            if not tape.all_played():
                raise CassetteError(f"{path} has unplayed interactions; record {name} again")
        else:
            rec = Recorder(name, secrets=(client.endpoint.api_key,))
            with capture(rec):
                yield client
            if mode == "record":
                write_cassette(path, rec, suite=suite.name)
    finally:
        client.close()
