"""What a benchmark run is asked to do: :class:`BenchConfig`, :class:`SLO`, :class:`LoadLevel`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from llmkit._exceptions import ConfigError

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "SLO",
    "BenchConfig",
    "LoadLevel",
    "LoadMode",
]

LoadMode = Literal["concurrency", "rate"]
#: the same default as ``Client(max_response_bytes=…)``: 32 MiB, decompressed size included
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class SLO:
    """Per-request service-level objectives; ``None`` means "not judged".

    A request meets the SLO when it succeeded, its TTFT ≤ ``ttft_ms``, its *own* mean
    per-token ITL ≤ ``itl_ms`` (a one-token answer has no ITL and passes that test) and
    its E2E ≤ ``e2e_ms``.
    """

    ttft_ms: float | None = None
    itl_ms: float | None = None
    e2e_ms: float | None = None
    tpot_ms: float | None = None

    def is_empty(self) -> bool:
        """Whether no objective was set."""
        return all(v is None for v in (self.ttft_ms, self.itl_ms, self.e2e_ms, self.tpot_ms))

    def to_dict(self) -> dict[str, float]:
        """The objectives that were set, by metric name."""
        out = {
            "ttft_ms": self.ttft_ms,
            "itl_ms": self.itl_ms,
            "e2e_ms": self.e2e_ms,
            "tpot_ms": self.tpot_ms,
        }
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class LoadLevel:
    """One load setting of a sweep: a fixed concurrency or a request rate, and a prompt length."""

    mode: LoadMode
    value: float
    prompt_tokens: int | None = None

    @property
    def label(self) -> str:
        """A short name for the level, e.g. ``c=8`` or ``rate=2/s in=512``."""
        load = f"c={int(self.value)}" if self.mode == "concurrency" else f"rate={self.value:g}/s"
        return load if self.prompt_tokens is None else f"{load} in={self.prompt_tokens}"

    @property
    def key(self) -> str:
        """Stable identity used to match levels of two runs in ``compare``."""
        return f"{self.mode}={self.value:g}|prompt={self.prompt_tokens}"

    def to_dict(self) -> dict[str, Any]:
        """The level as plain JSON-ready data."""
        return {
            "mode": self.mode,
            "concurrency": int(self.value) if self.mode == "concurrency" else None,
            "rate": self.value if self.mode == "rate" else None,
            "prompt_tokens": self.prompt_tokens,
            "label": self.label,
        }


@dataclass(frozen=True)
class BenchConfig:
    """Everything a benchmark run needs. Build it in code or from ``llmkit bench`` options.

    Attributes:
        base_url: OpenAI-compatible base URL as the openai SDK takes it (``…/v1``).
        model: model name; ``None`` asks ``GET /models`` and takes the first.
        api_key: sent as a bearer token; never printed or stored (``repr`` hides it).
        concurrency: fixed-concurrency levels of the sweep (closed loop).
        rates: request-rate levels in requests/s (open loop); excludes ``concurrency``.
        requests: requests per level (default: 4 × concurrency, or 10 s worth of rate,
            at least 16), unless ``duration_s`` is given.
        duration_s: length of each level instead of a request count.
        burstiness: gamma shape of the arrival process in rate mode; 1.0 is Poisson,
            lower is burstier, higher is more regular.
        max_concurrency: in rate mode, cap on requests in flight (the rest wait, and the
            wait shows as send lag).
        ramp_up_s: spread the start of the load over this many seconds.
        warmup: requests sent once before the first level and left out of the results.
        prompt_tokens: synthetic prompt lengths; several values sweep the input length.
        prompt_file: JSONL of chat messages (or ``{"messages": [...]}``/``{"prompt": ...}``).
        prompt_template: name of a template in ``prompts/``; ``template_vars`` fill it.
        random_prefix: start every prompt with a unique random line, to defeat prefix caching.
        max_tokens, ignore_eos, temperature, seed: passed to the server.
        stream: streaming (SSE) or plain responses.
        continuous_usage: ask for per-chunk usage (``continuous_usage_stats``).
        timeout_s, stall_timeout_s, connect_timeout_s: per-request limits.
        max_response_bytes: the most a response body may hold, decompressed size
            included (as ``Client(max_response_bytes=…)``, default 32 MiB); a request whose
            body passes it fails as ``too_large`` and the run goes on.
        slo: objectives for goodput and ``find_max``.
        find_max: search the highest load whose goodput share is ≥ ``goodput_target``.
        find_max_limit: the highest load ``find_max`` may try; by default the highest
            level given, so the search never goes beyond what was asked.
        tokenizer: local ``tokenizer.json`` for offline token counts (needs ``tokenizers``).
        extra_body: merged into every request body.
    """

    base_url: str
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    concurrency: tuple[int, ...] = ()
    rates: tuple[float, ...] = ()
    requests: int | None = None
    duration_s: float | None = None
    burstiness: float = 1.0
    max_concurrency: int | None = None
    ramp_up_s: float = 0.0
    warmup: int = 0
    prompt_tokens: tuple[int, ...] = (128,)
    prompt_file: str | None = None
    prompt_template: str | None = None
    template_vars: Mapping[str, str] = field(default_factory=dict)
    random_prefix: bool = False
    max_tokens: int = 128
    ignore_eos: bool = False
    temperature: float | None = None
    seed: int = 0
    stream: bool = True
    continuous_usage: bool = True
    timeout_s: float = 300.0
    stall_timeout_s: float = 60.0
    connect_timeout_s: float = 10.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    slo: SLO | None = None
    find_max: bool = False
    goodput_target: float = 0.9
    find_max_limit: float | None = None
    tokenizer: str | None = None
    extra_body: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.concurrency and self.rates:
            raise ConfigError("--concurrency and --rate exclude each other; choose one")
        if self.requests is not None and self.duration_s is not None:
            raise ConfigError("--requests and --duration exclude each other; choose one")
        if self.requests is not None and self.requests <= 0:
            raise ConfigError("--requests must be positive")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ConfigError("--duration must be positive")
        if self.burstiness <= 0 or not math.isfinite(self.burstiness):
            raise ConfigError("--burstiness must be a positive number")
        if self.max_tokens <= 0:
            raise ConfigError("--max-tokens must be positive")
        if any(p <= 0 for p in self.prompt_tokens) or not self.prompt_tokens:
            raise ConfigError("--prompt-tokens must be positive")
        if self.find_max and (self.slo is None or self.slo.is_empty()):
            raise ConfigError("--find-max needs --slo (the objectives the load must still meet)")
        if not 0 < self.goodput_target <= 1:
            raise ConfigError("--goodput-target must be in (0, 1]")
        if self.warmup < 0 or self.ramp_up_s < 0:
            raise ConfigError("--warmup and --ramp-up must be >= 0")
        limit = self.max_response_bytes
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise ConfigError(f"--max-response-bytes must be a positive number of bytes: {limit!r}")
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url must start with http:// or https://: {self.base_url!r}")

    @property
    def mode(self) -> LoadMode:
        """``"rate"`` when request rates were given, else ``"concurrency"``."""
        return "rate" if self.rates else "concurrency"

    @property
    def load_values(self) -> tuple[float, ...]:
        """The load levels to sweep: request rates, else concurrencies (at least one)."""
        if self.rates:
            return self.rates
        return tuple(float(c) for c in self.concurrency) or (1.0,)

    def levels(self) -> list[LoadLevel]:
        """The sweep: every prompt length × every load value (prompt length outermost)."""
        sweep_prompts = len(self.prompt_tokens) > 1
        out = []
        for p in self.prompt_tokens:
            for v in self.load_values:
                out.append(LoadLevel(self.mode, v, p if sweep_prompts else None))
        return out

    def requests_for(self, level: LoadLevel) -> int | None:
        """Requests to send at ``level`` (``None`` when the level runs for a duration)."""
        if self.duration_s is not None:
            return None
        if self.requests is not None:
            return self.requests
        if level.mode == "concurrency":
            return max(16, 4 * int(level.value))
        return max(16, math.ceil(level.value * 10))

    def public_args(self) -> dict[str, Any]:
        """The arguments as stored in ``summary.json``: everything but the API key."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name == "api_key":
                continue
            value = getattr(self, name)
            if isinstance(value, SLO):
                value = value.to_dict()
            elif isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        if "authorization" in {k.lower() for k in out.get("extra_body", {})}:
            out["extra_body"] = "<hidden>"
        return out

    def with_(self, **changes: Any) -> BenchConfig:
        """A copy with some fields changed (frozen dataclasses cannot be edited)."""
        return replace(self, **changes)
