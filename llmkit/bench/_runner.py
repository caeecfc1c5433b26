"""Run a benchmark: warm up, sweep the levels (or search the highest good one), collect.

``run_bench(BenchConfig(...))`` is the library entry point; ``llmkit bench`` calls it
too. Raw timestamps are turned into records and statistics only after each level, so the
measured path stays cheap.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import signal
import socket
import time
from dataclasses import dataclass, field, replace
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

import aiohttp

from llmkit._exceptions import BadResponseError, ConfigError, ConnectError
from llmkit._redact import Redactor, public_url
from llmkit._version import __version__
from llmkit.bench._client import RawResponse, ResponseTooLarge, make_session, request_body
from llmkit.bench._config import BenchConfig, LoadLevel
from llmkit.bench._load import LevelPlan, monitor_loop_lag, run_level
from llmkit.bench._metrics import ClientStats, summarize_level
from llmkit.bench._prompts import PromptSource
from llmkit.bench._records import RequestRecord, build_record, make_counter

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SCHEMA_VERSION",
    "BenchResult",
    "LevelResult",
    "ProgressHooks",
    "arun_bench",
    "public_url",
    "run_bench",
]

SCHEMA_VERSION = 1
_PREBUILD = 4096  # request bodies serialized before a level starts


class ProgressHooks:
    """Callbacks a caller may override to show progress (the CLI draws a rich bar)."""

    def level_started(self, index: int, level: LoadLevel, requests: int | None) -> None:
        """A level starts; ``requests`` is ``None`` when it runs for a duration."""

    def request_done(self, raw: RawResponse) -> None:
        """A request finished (``raw.error`` is ``None`` when it got a response)."""

    def level_finished(self, result: LevelResult) -> None:
        """A level ended and its statistics are ready."""


@dataclass(frozen=True)
class LevelResult:
    """One load level: its records, the client's health meanwhile, and its statistics."""

    index: int
    level: LoadLevel
    records: tuple[RequestRecord, ...]
    start_ns: int
    client: ClientStats
    stats: dict[str, Any]
    interrupted: bool = False

    @property
    def ok(self) -> int:
        """How many requests of this level succeeded."""
        return sum(1 for r in self.records if r.ok)

    @property
    def failed(self) -> int:
        """How many requests of this level failed."""
        return sum(1 for r in self.records if r.status == "failed")


@dataclass(frozen=True)
class BenchResult:
    """A whole run. ``summary()`` is ``summary.json``; ``to_frame()`` is ``requests.csv``."""

    config: BenchConfig
    model: str
    levels: tuple[LevelResult, ...]
    origin_ns: int
    started_at: str
    host: str
    interrupted: bool = False
    find_max: dict[str, Any] | None = None
    warmup_failed: int = 0
    llmkit_version: str = field(default="")
    stopped_by: str | None = None

    def error_levels(self, max_error_rate: float | None = None) -> list[tuple[str, str]]:
        """Levels whose failures exceed ``max_error_rate`` (a share, 0–1), with a reason.

        With ``None``, a level fails when none of its requests succeeded. Interrupted
        requests are not failures; a level that sent nothing is not judged.
        """
        out = []
        for lv in self.levels:
            req = lv.stats["requests"]
            judged = req["ok"] + req["failed"]
            if not judged:
                continue
            rate = req["failed"] / judged
            bad = req["ok"] == 0 if max_error_rate is None else rate > max_error_rate
            if bad:
                reasons = ", ".join(f"{k} {v}" for k, v in req["failed_reasons"].items())
                out.append((lv.level.label, f"{req['failed']} of {judged} failed ({reasons})"))
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One dict per request, times in ms relative to the run start."""
        out = []
        for lv in self.levels:
            for r in lv.records:
                out.append({"level_label": lv.level.label, **r.to_row(self.origin_ns)})
        return out

    def to_frame(self) -> pd.DataFrame:
        """Per-request DataFrame (the same columns as ``requests.csv``)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def levels_frame(self) -> pd.DataFrame:
        """One row per level with the headline figures flattened (``ttft_ms_p50``, …)."""
        import pandas as pd

        rows = []
        for s in (lv.stats for lv in self.levels):
            row: dict[str, Any] = {"label": s["label"], **s["load"], **s["requests"]}
            row.pop("failed_reasons", None)
            for key, value in s.items():
                if key.endswith("_ms") and isinstance(value, dict):
                    for stat, v in value.items():
                        row[f"{key}_{stat}"] = v
            row.update(s["throughput"])
            good = s.get("goodput")
            row["goodput_rps"] = good["requests_per_s"] if good else None
            row["goodput_share"] = good["share"] if good else None
            row["client_cpu_percent"] = s["client"]["cpu_percent"]
            rows.append(row)
        return pd.DataFrame(rows)

    def warnings(self) -> list[str]:
        """What a reader must know before trusting the numbers (interruption, failures, ...)."""
        out = []
        if self.interrupted:
            out.append("the run was interrupted: results cover what was measured until then")
        if self.warmup_failed:
            out.append(f"{self.warmup_failed} warm-up request(s) failed")
        for lv in self.levels:
            out.extend(f"{lv.level.label}: {w}" for w in lv.stats["client"]["warnings"])
        return out

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` document (JSON-safe; never holds the API key)."""
        args = self.config.public_args()
        args["base_url"] = public_url(self.config.base_url)
        wall = 0.0
        if self.levels:
            last = max(lv.start_ns + int(lv.client.wall_s * 1e9) for lv in self.levels)
            wall = (last - self.origin_ns) / 1e9
        doc: dict[str, Any] = _json_safe(
            {
                "schema_version": SCHEMA_VERSION,
                "kind": "llmkit.bench",
                "interrupted": self.interrupted,
                "run": {
                    "llmkit_version": self.llmkit_version,
                    "started_at": self.started_at,
                    "host": self.host,
                    "base_url": public_url(self.config.base_url),
                    "model": self.model,
                    "seed": self.config.seed,
                    "mode": self.config.mode,
                    "stream": self.config.stream,
                    "interrupted": self.interrupted,
                    "stopped_by": self.stopped_by,
                    "wall_s": wall,
                    "args": args,
                },
                "levels": [lv.stats for lv in self.levels],
                "find_max": self.find_max,
                "warnings": self.warnings(),
            }
        )
        return doc


def _json_safe(obj: Any) -> Any:
    """Replace NaN/inf (not valid JSON) with ``None``, recursively."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj


def _endpoint(config: BenchConfig) -> str:
    """The base URL requests go to. URL credentials mean HTTP basic auth, which one
    ``Authorization`` header cannot carry next to the API key's bearer token: the key wins.
    """
    url = config.base_url.rstrip("/")
    return public_url(url) if config.api_key else url


async def _resolve_model(config: BenchConfig, headers: dict[str, str]) -> str:
    if config.model:
        return config.model
    url = _endpoint(config) + "/models"
    try:
        timeout = aiohttp.ClientTimeout(total=max(config.connect_timeout_s, 5.0))
        async with (
            aiohttp.ClientSession(timeout=timeout, headers=headers) as s,
            s.get(url) as resp,
        ):
            if resp.status != 200:
                raise ConfigError(
                    f"no --model given and GET {public_url(url)} answered {resp.status}"
                )
            limit = config.max_response_bytes
            text = bytearray()
            while len(text) <= limit:  # decoded bytes: at most one past the cap is kept
                part = await resp.content.read(limit + 1 - len(text))
                if not part:
                    break
                text += part
            if len(text) > limit:
                raise ResponseTooLarge(limit)
            try:
                return str(json.loads(text)["data"][0]["id"])
            except (ValueError, LookupError, TypeError, RecursionError):
                raise BadResponseError(
                    f"no --model given and GET {public_url(url)} did not list a model:"
                    f" {bytes(text[:200]).decode('utf-8', 'replace')!r}",
                    endpoint=public_url(config.base_url),
                    attempts=1,
                ) from None
    except ResponseTooLarge as exc:
        raise BadResponseError(
            f"no --model given and GET {public_url(url)}: {exc}",
            endpoint=public_url(config.base_url),
            attempts=1,
        ) from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ConnectError(
            f"cannot list models to pick one ({type(exc).__name__})",
            endpoint=public_url(config.base_url),
            attempts=1,
        ) from None
    except (KeyError, IndexError, TypeError, ValueError):
        raise ConfigError(f"no --model given and {public_url(url)} lists none") from None


class _Bodies:
    """Serialized request bodies, built ahead so that sending never waits on JSON."""

    def __init__(
        self, config: BenchConfig, model: str, source: PromptSource, salt: int, n: int | None
    ) -> None:
        self._config, self._model, self._source, self._salt = config, model, source, salt
        self._cache: dict[int, tuple[bytes, int | None]] = {}
        for i in range(min(n if n is not None else _PREBUILD, _PREBUILD)):
            self._cache[i] = self._build(i)

    def _build(self, i: int) -> tuple[bytes, int | None]:
        c = self._config
        messages, tokens = self._source.messages(i, self._salt)
        body = request_body(
            model=self._model,
            messages=messages,
            max_tokens=c.max_tokens,
            stream=c.stream,
            continuous_usage=c.continuous_usage,
            ignore_eos=c.ignore_eos,
            temperature=c.temperature,
            seed=c.seed,
            extra=dict(c.extra_body),
        )
        return json.dumps(body, separators=(",", ":")).encode(), tokens

    def __call__(self, i: int) -> tuple[bytes, int | None]:
        hit = self._cache.pop(i, None)
        return hit if hit is not None else self._build(i)


class _Run:
    def __init__(self, config: BenchConfig, hooks: ProgressHooks) -> None:
        self.config = config
        self.hooks = hooks
        self.stop = asyncio.Event()
        self.count = make_counter(config.tokenizer)
        self.headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self.url = _endpoint(config) + "/chat/completions"
        self.sources: dict[int | None, PromptSource] = {}
        self.levels: list[LevelResult] = []
        self.origin_ns = 0
        self.model = ""
        self.redact = Redactor((config.api_key,), (config.base_url,))
        self.stopped_by: str | None = None

    def source(self, prompt_tokens: int | None) -> PromptSource:
        if prompt_tokens not in self.sources:
            c = self.config
            self.sources[prompt_tokens] = PromptSource(
                prompt_tokens=prompt_tokens or c.prompt_tokens[0],
                prompt_file=c.prompt_file,
                template=c.prompt_template,
                template_vars=c.template_vars,
                random_prefix=c.random_prefix,
                seed=c.seed,
                count=self.count,
            )
        return self.sources[prompt_tokens]

    async def run_plan(
        self, plan: LevelPlan, prompt_tokens: int | None, salt: int
    ) -> tuple[int, list[RawResponse], ClientStats]:
        c = self.config
        limit = 0 if plan.mode == "rate" else int(plan.value)
        bodies = _Bodies(c, self.model, self.source(prompt_tokens), salt, plan.requests)
        lag: list[float] = []
        lag_stop = asyncio.Event()
        async with make_session(
            connect_timeout_s=c.connect_timeout_s, limit=limit, headers=self.headers
        ) as session:
            monitor = asyncio.create_task(monitor_loop_lag(lag, lag_stop))
            cpu0, wall0 = time.process_time(), perf_counter_ns()
            try:
                start, raws = await run_level(
                    session, self.url, plan, bodies, stop=self.stop,
                    on_done=self.hooks.request_done,
                )  # fmt: skip
            finally:
                lag_stop.set()
                await monitor
            cpu = time.process_time() - cpu0
            wall = (perf_counter_ns() - wall0) / 1e9
        return start, raws, ClientStats(wall_s=wall, cpu_s=cpu, loop_lag_ms=tuple(lag))

    def plan(self, level: LoadLevel, *, warmup: int = 0) -> LevelPlan:
        c = self.config
        if warmup:
            return LevelPlan(
                "concurrency", float(min(warmup, max(1, int(level.value)))), warmup, None,
                stream=c.stream, timeout_s=c.timeout_s, stall_timeout_s=c.stall_timeout_s,
                warmup=True, max_response_bytes=c.max_response_bytes,
            )  # fmt: skip
        return LevelPlan(
            mode=level.mode,
            value=level.value,
            requests=c.requests_for(level),
            duration_s=c.duration_s,
            ramp_up_s=c.ramp_up_s,
            burstiness=c.burstiness,
            max_concurrency=c.max_concurrency if level.mode == "rate" else None,
            seed=c.seed + len(self.levels),
            stream=c.stream,
            timeout_s=c.timeout_s,
            stall_timeout_s=c.stall_timeout_s,
            max_response_bytes=c.max_response_bytes,
        )

    async def warmup(self, level: LoadLevel) -> int:
        plan = self.plan(level, warmup=self.config.warmup)
        _, raws, _ = await self.run_plan(plan, level.prompt_tokens, salt=-1)
        return sum(1 for r in raws if r.error is not None and r.error != "interrupted")

    async def run_one(self, level: LoadLevel) -> LevelResult:
        index = len(self.levels)
        plan = self.plan(level)
        self.hooks.level_started(index, level, plan.requests)
        start, raws, client = await self.run_plan(plan, level.prompt_tokens, salt=index)
        # Counting tokens takes a while on long answers: on a worker thread, the loop
        # keeps hearing Ctrl-C and SIGTERM meanwhile (they stop the run, honestly).
        records = await asyncio.to_thread(self._records, raws, index)
        interrupted = self.stop.is_set()
        stats = summarize_level(
            level, records, index=index, start_ns=start, client=client,
            slo=self.config.slo, max_concurrency=plan.max_concurrency, interrupted=interrupted,
        )  # fmt: skip
        result = LevelResult(index, level, records, start, client, stats, interrupted)
        self.levels.append(result)
        self.hooks.level_finished(result)
        return result

    def _records(self, raws: list[RawResponse], index: int) -> tuple[RequestRecord, ...]:
        stream = self.config.stream
        return tuple(
            self._clean(build_record(r, level=index, stream=stream, count=self.count)) for r in raws
        )

    def _clean(self, rec: RequestRecord) -> RequestRecord:
        """Server bodies and exception texts may quote the key: never keep it."""
        if not rec.error_detail:
            return rec
        clean = self.redact(rec.error_detail)
        return rec if clean == rec.error_detail else replace(rec, error_detail=clean)

    def passes(self, result: LevelResult) -> bool:
        good = result.stats.get("goodput")
        if not good or result.ok == 0:
            return False
        return bool(good["share"] >= self.config.goodput_target)

    async def find_max(self) -> dict[str, Any]:
        """Double the load until the SLOs break, then bisect between pass and fail."""
        c = self.config
        conc = c.mode == "concurrency"
        # Never beyond what the user asked for: the highest level given, or the limit set.
        limit = c.find_max_limit or max(c.load_values)
        prompt = c.prompt_tokens[0] if len(c.prompt_tokens) > 1 else None
        tried: dict[float, bool] = {}

        async def attempt(v: float) -> bool | None:
            v = float(max(1, round(v))) if conc else v
            if v in tried:
                return tried[v]
            res = await self.run_one(LoadLevel(c.mode, v, prompt))
            if self.stop.is_set():
                return None
            tried[v] = self.passes(res)
            return tried[v]

        lo: float | None = None
        hi: float | None = None
        v = min(c.load_values[0], limit)
        while True:  # grow (or shrink, when even the start fails)
            ok = await attempt(v)
            if ok is None:
                break
            if ok:
                lo = v
                if hi is not None or v >= limit:
                    break
                v = min(v * 2, limit)
            else:
                hi = v
                if lo is not None or v <= (1 if conc else 0.01):
                    break
                v = v / 2 if not conc else max(1.0, float(int(v // 2)))
        for _ in range(6):  # bisect
            if lo is None or hi is None or self.stop.is_set():
                break
            if (conc and hi - lo <= 1) or (not conc and hi / lo <= 1.1):
                break
            mid = (lo + hi) / 2
            mid = float(round(mid)) if conc else mid
            ok = await attempt(mid)
            if ok is None:
                break
            if ok:
                lo = mid
            else:
                hi = mid
        return {
            "mode": c.mode,
            "best": lo,
            "first_failing": hi,
            "criterion": {
                "slo": c.slo.to_dict() if c.slo else {},
                "goodput_share": c.goodput_target,
            },
            "tried": [{"value": k, "passed": p} for k, p in sorted(tried.items())],
        }


async def arun_bench(config: BenchConfig, hooks: ProgressHooks | None = None) -> BenchResult:
    """Async form of :func:`run_bench`, for callers already inside an event loop."""
    run = _Run(config, hooks or ProgressHooks())
    loop = asyncio.get_running_loop()
    handled: list[tuple[signal.Signals, Any]] = []

    def on_signal(name: str) -> None:
        # Ctrl-C or SIGTERM: stop sending and cut the requests in flight (they record
        # themselves as interrupted), keep what was measured. A second signal changes
        # nothing: cancelling the run then lost the level being measured.
        run.stopped_by = run.stopped_by or name
        run.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous = signal.getsignal(sig)
            loop.add_signal_handler(sig, on_signal, sig.name)
            handled.append((sig, previous))
        except (RuntimeError, NotImplementedError, ValueError):
            pass  # not the main thread, or no signals here: Ctrl-C raises as usual
    started_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    warm_failed = 0
    find: dict[str, Any] | None = None
    try:
        for p in config.prompt_tokens:  # a bad --prompt-file fails before any request
            run.source(p if len(config.prompt_tokens) > 1 else None)
        run.model = await _resolve_model(config, run.headers)
        run.origin_ns = perf_counter_ns()
        levels = config.levels()
        if config.warmup and levels:
            warm_failed = await run.warmup(levels[0])
        if config.find_max:
            find = await run.find_max()
        else:
            for level in levels:
                if run.stop.is_set():
                    break
                await run.run_one(level)
        # A signal that came during the last step is still in the loop's wake-up pipe:
        # let the loop read it and run its handler before the handlers go.
        for _ in range(3):
            await asyncio.sleep(0)
    except asyncio.CancelledError:
        run.stop.set()
    finally:
        for sig, previous in handled:
            loop.remove_signal_handler(sig)
            if previous is not None:  # give the host program its own handler back
                signal.signal(sig, previous)
    return BenchResult(
        config=config,
        model=run.model,
        levels=tuple(run.levels),
        origin_ns=run.origin_ns,
        started_at=started_at,
        host=socket.gethostname(),
        interrupted=run.stop.is_set(),
        find_max=find,
        warmup_failed=warm_failed,
        llmkit_version=__version__,
        stopped_by=run.stopped_by if run.stop.is_set() else None,
    )


def run_bench(config: BenchConfig, hooks: ProgressHooks | None = None) -> BenchResult:
    """Run the benchmark described by ``config`` and return every measurement.

    Example:
        >>> result = run_bench(BenchConfig(base_url="http://127.0.0.1:8000/v1",
        ...                                concurrency=(1, 4), requests=20))  # doctest: +SKIP
        >>> result.levels_frame()[["label", "ttft_ms_p50", "output_tokens_per_s"]]  # doctest: +SKIP

    Failed requests never raise: they are counted with a reason. Ctrl-C stops sending
    and returns what was measured (``result.interrupted``).

    Raises:
        ConfigError: the configuration cannot work (no model listed, bad tokenizer…).
        ConnectError: no ``model`` was given and the server could not be asked for one.
    """
    return asyncio.run(arun_bench(config, hooks))
