"""``llmkit serve``: run the embedded OpenAI-compatible engine until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import click

from llmkit.cli._common import BadInputError, ExitCode, OutputPath, fail_cleanly

__all__ = ["serve"]

_RATE = click.FloatRange(0.0, 1.0)
_MS = click.FloatRange(min=0.0)


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _check_scenario(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Load the scenario before anything starts: a bad file is one line and exit 2."""
    if value is None:
        return None
    from llmkit import ConfigError
    from llmkit.engine import load_scenario

    try:
        load_scenario(value)
    except ConfigError as exc:
        raise BadInputError(f"--scenario: {exc}") from None
    return value


def _check_send_log(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """A send log that cannot be written is one line and exit 2, before anything starts."""
    if value is None:
        return None
    try:
        with value.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise BadInputError(f"--send-log: cannot write {value}: {exc.strerror or exc}") from None
    return value


@click.command(context_settings={"show_default": True})
@click.option("--host", default="127.0.0.1", help="Interface to bind.")
@click.option("--port", default=8000, type=click.IntRange(0, 65535), help="Port (0: a free one).")
@click.option("-m", "--model", default="llmkit-sim", help="Model name served.")
@click.option(
    "--alias", "aliases", multiple=True, help="Further accepted model names (repeatable)."
)
@click.option("--api-key", default=None, help="Require 'Authorization: Bearer KEY'.")
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    default=None,
    callback=_check_scenario,
    help="Scenario YAML file (default: the shipped one).",
)
@click.option(
    "--preset",
    type=click.Choice(["zero", "realistic", "slow", "cpu"]),
    default="realistic",
    help="Timing preset; the timing options below override it.",
)
@click.option(
    "--prefill-ms-per-token", type=_MS, default=None, help="Prefill cost per prompt token."
)
@click.option("--decode-step-ms", type=_MS, default=None, help="Base cost of one decode step.")
@click.option(
    "--decode-ms-per-seq", type=_MS, default=None, help="Extra step cost per running sequence."
)
@click.option(
    "--decode-ms-per-kv-token",
    type=_MS,
    default=None,
    help="Extra step cost per context token of all running sequences.",
)
@click.option(
    "--max-batch", type=click.IntRange(min=1), default=None, help="Sequences decoding at once."
)
@click.option(
    "--max-model-len", type=click.IntRange(min=1), default=None, help="Largest max_tokens accepted."
)
@click.option(
    "--max-body-bytes", type=click.IntRange(min=1024), default=None, help="Largest request body."
)
@click.option(
    "--tokens-per-chunk", type=click.IntRange(min=1), default=1, help="Tokens per SSE event."
)
@click.option("--role-chunk/--no-role-chunk", default=True, help="Send a role-only first chunk.")
@click.option(
    "--seed", type=int, default=0, help="Engine seed (answers are seeded per request from it)."
)
@click.option(
    "--send-log",
    type=OutputPath(),
    default=None,
    callback=_check_send_log,
    help="Write every chunk's send time as JSONL to this file (truncated first).",
)
@click.option("--fault-429", type=_RATE, default=0.0, help="Rate of 429 responses.")
@click.option("--fault-500", type=_RATE, default=0.0, help="Rate of 500 responses.")
@click.option("--fault-cut", type=_RATE, default=0.0, help="Rate of streams cut mid-way.")
@click.option("--fault-stall", type=_RATE, default=0.0, help="Rate of streams that stall.")
@click.option(
    "--fault-garbage", type=_RATE, default=0.0, help="Rate of streams with garbage SSE lines."
)
@click.option(
    "--fault-non-json", type=_RATE, default=0.0, help="Rate of 200 responses with an HTML body."
)
@click.option(
    "--fault-malformed", type=_RATE, default=0.0, help="Rate of malformed structured answers."
)
@click.option("--retry-after", type=_MS, default=1.0, help="Retry-After seconds sent with a 429.")
@click.option("--stall-s", type=_MS, default=1.0, help="Length of a stall in seconds.")
@click.option("--malformed-kinds", default=None, help="Comma-separated corruption classes to use.")
@click.option(
    "--fault-script",
    default=None,
    help="Comma-separated faults for the first requests, e.g. 429,500,cut,ok.",
)
@click.option(
    "--dialect",
    type=click.Choice(["openai", "bare"]),
    default="openai",
    show_default=True,
    help='bare: refuse stream_options, send no usage, errors as {"detail": ...}.',
)
def serve(**opts: Any) -> None:
    """Serve the embedded OpenAI-compatible engine (chat and completions, SSE streaming).

    Prints one line 'llmkit serve: ready on http://HOST:PORT/v1 (model NAME)' and runs
    until interrupted: exit 130 after Ctrl-C, 143 after SIGTERM, once it has stopped.
    """
    with fail_cleanly():
        config = _build_config(opts)
    stopped_by: int | None = signal.SIGINT  # a second Ctrl-C during shutdown
    with fail_cleanly():
        with contextlib.suppress(KeyboardInterrupt):
            stopped_by = asyncio.run(_serve(config, opts["host"], opts["port"]))
    if stopped_by is not None:
        sys.exit(ExitCode.INTERRUPTED if stopped_by == signal.SIGINT else ExitCode.TERMINATED)


def _build_config(opts: dict[str, Any]) -> Any:
    from llmkit.engine import EngineConfig, Faults

    timing = {
        k: opts[k]
        for k in (
            "prefill_ms_per_token",
            "decode_step_ms",
            "decode_ms_per_seq",
            "decode_ms_per_kv_token",
            "max_batch",
            "max_model_len",
            "max_body_bytes",
        )
        if opts[k] is not None
    }
    faults = Faults(
        http_429=opts["fault_429"],
        http_500=opts["fault_500"],
        cut=opts["fault_cut"],
        stall=opts["fault_stall"],
        garbage=opts["fault_garbage"],
        non_json=opts["fault_non_json"],
        malformed=opts["fault_malformed"],
        retry_after_s=opts["retry_after"],
        stall_s=opts["stall_s"],
        malformed_kinds=_csv(opts["malformed_kinds"]),
        script=_csv(opts["fault_script"]),
    )
    return EngineConfig.preset(
        opts["preset"],
        model=opts["model"],
        aliases=tuple(opts["aliases"]),
        api_key=opts["api_key"] or None,
        scenario=opts["scenario"],
        tokens_per_chunk=opts["tokens_per_chunk"],
        role_chunk=opts["role_chunk"],
        seed=opts["seed"],
        send_log=False,
        send_log_path=opts["send_log"],
        faults=faults,
        dialect=opts["dialect"],
        **timing,
    )


async def _serve(config: Any, host: str, port: int) -> int | None:
    """Serve until a signal; returns the signal that stopped the engine."""
    from llmkit.engine import Engine

    engine = Engine(config)
    stop = asyncio.Event()
    stopped_by: list[int] = []
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        stopped_by.append(signum)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        url = await engine.start(host, port)
        sys.stdout.write(f"llmkit serve: ready on {url} (model {config.model})\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await engine.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return stopped_by[0] if stopped_by else None
