"""Engine configuration: timing model, output shape, fault injection.

Both classes are frozen dataclasses so that a running engine can share them between
threads without locks; change faults on a running engine by swapping the whole value
(``engine.set_faults(...)``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit._exceptions import ConfigError

__all__ = ["FAULT_KINDS", "PRESETS", "EngineConfig", "Faults", "parse_fault"]

#: Fault names accepted by ``Faults.script`` and the ``x-llmkit-fault`` header.
#: ``malformed`` may name a class: ``malformed:fences``.
FAULT_KINDS = ("ok", "429", "500", "cut", "stall", "garbage", "non_json", "malformed")


def parse_fault(entry: str) -> tuple[str, str]:
    """Split a fault entry into ``(kind, detail)``, e.g. ``"malformed:tabs"`` → ``("malformed", "tabs")``.

    Raises:
        ConfigError: the kind is unknown.
    """
    kind, _, detail = entry.strip().partition(":")
    kind = kind.lower()
    if kind not in FAULT_KINDS:
        raise ConfigError(f"unknown fault {entry!r}; expected one of {', '.join(FAULT_KINDS)}")
    if detail and kind != "malformed":
        raise ConfigError(f"fault {entry!r}: only 'malformed' takes a ':class' suffix")
    return kind, detail


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"fault rate {name}={value!r} must be between 0 and 1")


DIALECTS = ("openai", "bare")


@dataclass(frozen=True)
class Faults:
    """Faults injected into responses.

    Each request gets at most one fault. Order of precedence: the ``x-llmkit-fault``
    request header, then the next unused ``script`` entry (one per request, in arrival
    order), then the rates (drawn from a RNG seeded by the engine seed, the request
    content and how many times that same content arrived before, so a retry of an
    identical request draws again, and results do not depend on arrival order).

    Attributes:
        http_429: rate of ``429 Too Many Requests`` with a ``Retry-After`` header.
        http_500: rate of ``500 Internal Server Error``.
        cut: rate of streams closed mid-way (no ``[DONE]``; non-streaming: half a body).
        stall: rate of streams that stop sending for ``stall_s`` seconds mid-way.
        garbage: rate of streams with non-JSON SSE lines mixed in.
        non_json: rate of ``200`` responses with an HTML body.
        malformed: rate of structured (YAML/JSON) answers corrupted like real models do.
        retry_after_s: value of ``Retry-After`` (fractional allowed); ``None`` omits it.
        stall_s: how long a stall lasts.
        malformed_kinds: restrict the corruption classes (names from ``_malform``).
        script: deterministic faults, one entry per request, e.g. ``("429", "ok")``.
    """

    http_429: float = 0.0
    http_500: float = 0.0
    cut: float = 0.0
    stall: float = 0.0
    garbage: float = 0.0
    non_json: float = 0.0
    malformed: float = 0.0
    retry_after_s: float | None = 1.0
    stall_s: float = 1.0
    malformed_kinds: tuple[str, ...] = ()
    script: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("http_429", "http_500", "cut", "stall", "garbage", "non_json", "malformed"):
            _check_rate(name, getattr(self, name))
        if self.retry_after_s is not None and self.retry_after_s < 0:
            raise ConfigError("retry_after_s must be >= 0")
        if self.stall_s < 0:
            raise ConfigError("stall_s must be >= 0")
        object.__setattr__(self, "script", tuple(self.script))
        object.__setattr__(self, "malformed_kinds", tuple(self.malformed_kinds))
        for entry in self.script:
            parse_fault(entry)
        if self.malformed_kinds:
            from llmkit.engine._malform import MALFORMERS

            unknown = [k for k in self.malformed_kinds if k not in MALFORMERS]
            if unknown:
                raise ConfigError(f"unknown malformed kinds {unknown}; known: {sorted(MALFORMERS)}")

    @property
    def rates(self) -> tuple[tuple[str, float], ...]:
        """``(fault kind, rate)`` pairs in the order they are drawn."""
        return (
            ("429", self.http_429),
            ("500", self.http_500),
            ("non_json", self.non_json),
            ("cut", self.cut),
            ("stall", self.stall),
            ("garbage", self.garbage),
            ("malformed", self.malformed),
        )

    @property
    def any_rate(self) -> bool:
        """Whether any fault is injected at a non-zero rate."""
        return any(rate > 0 for _, rate in self.rates)


@dataclass(frozen=True)
class EngineConfig:
    """Everything that shapes the engine's answers and timing.

    The timing model is one shared scheduler doing continuous batching: a step decodes
    one token for every running sequence and takes
    ``decode_step_ms + decode_ms_per_seq·batch + decode_ms_per_kv_token·context tokens
    of all running sequences + prefill_ms_per_token·prompt tokens admitted this step``.
    Requests beyond ``max_batch`` wait in a FIFO queue, so TTFT includes queue time.

    Attributes:
        model: the served model name (``/v1/models``); requests for others get 404.
        aliases: further accepted model names (scenarios may match on them).
        api_key: when set, requests need ``Authorization: Bearer <api_key>``.
        seed: engine seed mixed into every per-request RNG.
        scenario: path of a scenario YAML file; ``None`` uses the shipped default.
        tokens_per_chunk: tokens buffered into one SSE event (a chunk never splits a
            UTF-8 character, so it may carry a few more).
        role_chunk: send a role-only first chunk (right after the headers).
        prefill_ms_per_token: prefill cost per prompt token.
        decode_step_ms: fixed cost of one decode step (one token per running sequence).
        decode_ms_per_seq: extra step cost per running sequence.
        decode_ms_per_kv_token: extra step cost per context token of all running sequences.
        max_batch: sequences decoding at once; the rest queue.
        max_model_len: largest accepted ``max_tokens``.
        max_body_bytes: largest accepted request body.
        send_log: keep an in-memory log of every chunk's send time.
        send_log_path: also append the log as JSONL to this file.
        faults: fault injection settings.
        dialect: ``openai`` (the API as OpenAI documents it) or ``bare``, a narrower
            OpenAI-compatible server as some self-hosted ones are: a request carrying
            ``stream_options`` is refused (400, naming it), no ``usage`` is ever sent
            (streamed or whole), and errors are FastAPI's ``{"detail": "..."}``, not
            ``{"error": {...}}``. Clients must cope with all three.
    """

    model: str = "llmkit-sim"
    aliases: tuple[str, ...] = ()
    api_key: str | None = None
    seed: int = 0
    scenario: str | Path | None = None
    tokens_per_chunk: int = 1
    role_chunk: bool = True
    prefill_ms_per_token: float = 0.02
    decode_step_ms: float = 3.3
    decode_ms_per_seq: float = 0.007
    decode_ms_per_kv_token: float = 0.000027
    max_batch: int = 256
    max_model_len: int = 1_000_000
    max_body_bytes: int = 8 * 1024 * 1024
    send_log: bool = False
    send_log_path: str | Path | None = None
    faults: Faults = field(default_factory=Faults)
    dialect: str = "openai"

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ConfigError(f"dialect must be one of {', '.join(DIALECTS)}, not {self.dialect!r}")
        if not self.model or not isinstance(self.model, str):
            raise ConfigError("model must be a non-empty string")
        object.__setattr__(self, "aliases", tuple(self.aliases))
        if self.tokens_per_chunk < 1:
            raise ConfigError("tokens_per_chunk must be >= 1")
        if self.max_batch < 1:
            raise ConfigError("max_batch must be >= 1")
        if self.max_model_len < 1 or self.max_body_bytes < 1024:
            raise ConfigError("max_model_len must be >= 1 and max_body_bytes >= 1024")
        for name in (
            "prefill_ms_per_token",
            "decode_step_ms",
            "decode_ms_per_seq",
            "decode_ms_per_kv_token",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0")

    @property
    def model_names(self) -> tuple[str, ...]:
        """The model name and its aliases: every name the engine answers to."""
        return (self.model, *self.aliases)

    @property
    def zero_timing(self) -> bool:
        """True when no step ever takes time (the scheduler then never sleeps)."""
        return (
            self.prefill_ms_per_token == 0
            and self.decode_step_ms == 0
            and self.decode_ms_per_seq == 0
            and self.decode_ms_per_kv_token == 0
        )

    def replace(self, **changes: Any) -> EngineConfig:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def zero_delay(cls, **overrides: Any) -> EngineConfig:
        """No simulated time at all: the engine answers as fast as it can write."""
        base: dict[str, Any] = {
            "prefill_ms_per_token": 0.0,
            "decode_step_ms": 0.0,
            "decode_ms_per_seq": 0.0,
            "decode_ms_per_kv_token": 0.0,
        }
        return cls(**{**base, **overrides})

    @classmethod
    def realistic(cls, **overrides: Any) -> EngineConfig:
        """An 8B bf16 model on one H100-class GPU (see DESIGN.md): ~3.3 ms steps,
        ~5 ms at batch 256, 20 µs per prompt token of prefill, KV reads per context token."""
        base: dict[str, Any] = {
            "prefill_ms_per_token": 0.02,
            "decode_step_ms": 3.3,
            "decode_ms_per_seq": 0.007,
            "decode_ms_per_kv_token": 0.000027,
            "max_batch": 256,
        }
        return cls(**{**base, **overrides})

    @classmethod
    def slow(cls, tokens_per_s: float = 50.0, **overrides: Any) -> EngineConfig:
        """A steady ``tokens_per_s`` per sequence whatever the batch (no contention)."""
        if tokens_per_s <= 0:
            raise ConfigError("tokens_per_s must be > 0")
        base: dict[str, Any] = {
            "prefill_ms_per_token": 0.0,
            "decode_step_ms": 1000.0 / tokens_per_s,
            "decode_ms_per_seq": 0.0,
            "decode_ms_per_kv_token": 0.0,
        }
        return cls(**{**base, **overrides})

    @classmethod
    def cpu(cls, **overrides: Any) -> EngineConfig:
        """A small model on a few CPU cores (SmolLM2-135M on llama.cpp, ~25 tokens/s at
        batch 1; compute bound, so steps grow fast with the batch)."""
        base: dict[str, Any] = {
            "prefill_ms_per_token": 0.5,
            "decode_step_ms": 40.0,
            "decode_ms_per_seq": 12.0,
            "decode_ms_per_kv_token": 0.0005,
            "max_batch": 8,
        }
        return cls(**{**base, **overrides})

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> EngineConfig:
        """Build a config from a preset name (see :data:`PRESETS`)."""
        try:
            factory = PRESETS[name]
        except KeyError:
            raise ConfigError(
                f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}"
            ) from None
        return factory(**overrides)


#: Preset name → factory, as ``llmkit serve --preset`` knows them.
PRESETS: dict[str, Callable[..., EngineConfig]] = {
    "zero": EngineConfig.zero_delay,
    "realistic": EngineConfig.realistic,
    "slow": EngineConfig.slow,
    "cpu": EngineConfig.cpu,
}
