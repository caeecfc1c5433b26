"""``llmkit bench``: measure an endpoint's TTFT, ITL and throughput under load.

Thin: it parses options into a :class:`~llmkit.bench.BenchConfig`, shows progress,
and hands everything else to :mod:`llmkit.bench`.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any, NoReturn

import click

from llmkit.cli._common import (
    ExitCode,
    InconclusiveError,
    OutputPath,
    err_console,
    fail_cleanly,
    json_option,
    print_json,
)

#: exit status of a run stopped by each signal (128 + its number, the shell's habit)
EXIT_STATUS = {"SIGINT": 130, "SIGTERM": 143}

__all__ = ["bench"]

_METRICS_HELP = """\b
Metrics (definitions shared with llmkit.Client, see llmkit.timing):
  TTFB   request sent -> first response byte
  TTFT   request sent -> first chunk with output text (role-only,
         empty, usage-only and reasoning chunks do not count)
  TTFR   request sent -> first reasoning text (reasoning_content
         deltas or a leading <think> block)
  ICL    gap between consecutive output chunks
  ITL    per-token inter-token latency (TBT): each chunk's gap
         spread over the tokens it carries (server per-chunk usage
         when sent, else counted offline after the run: approximate)
  TPOT   (E2E - TTFT) / (output tokens - 1)
  E2E    request sent -> last output chunk
  queue wait  scheduled -> sent: time a request waited client-side
  goodput  requests/s whose own TTFT and E2E (from the scheduled
         send time) and mean ITL meet --slo
Each as mean, p50, p90, p95, p99, max over successful requests.
vLLM bench serve, guidellm, aiperf and inference-perf define some of
these differently (a role-only chunk is vLLM's first token; guidellm's
and aiperf's ITL is TPOT): summary.json's "peers" has their figures.
Exit 1 when a level had no successful request (see --max-error-rate);
130 / 143 after Ctrl-C / SIGTERM, with what was measured written.
"""


class _Progress:
    """Rich progress bar on stderr, one task per level (stdout stays clean for --json)."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from llmkit.bench import ProgressHooks

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=err_console(),
            transient=False,
        )
        outer = self

        class Hooks(ProgressHooks):
            def level_started(self, index: int, level: Any, requests: int | None) -> None:
                # Started with the first level, not before: an input checked at the start
                # of the run fails as one line, with no empty progress line above it.
                if not outer.started:
                    outer.progress.start()
                    outer.started = True
                outer.task = outer.progress.add_task(level.label, total=requests, failed=0)
                outer.failed = 0

            def request_done(self, raw: Any) -> None:
                if raw.error is not None:
                    outer.failed += 1
                outer.progress.update(outer.task, advance=1, failed=outer.failed)

            def level_finished(self, result: Any) -> None:
                outer.progress.update(outer.task, total=len(result.records))

        self.hooks = Hooks()
        self.started = False
        self.task: Any = None
        self.failed = 0


@contextlib.contextmanager
def _signals_held() -> Iterator[list[str]]:
    """Defer Ctrl-C and SIGTERM while the report is written (a second Ctrl-C, or
    ``timeout`` and CI cancels that signal again, would leave half the files); yields
    the names of the signals that arrived."""
    held: list[str] = []
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(
                sig, lambda num, _frame: held.append(signal.Signals(num).name)
            )
    except ValueError:  # not the main thread: nothing to hold
        pass
    try:
        yield held
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected NAME=VALUE, got {v!r}", param_hint="--var")
        out[key] = val
    return out


def _convert(func: Any, value: Any, hint: str) -> Any:
    from llmkit import ConfigError  # type: ignore[attr-defined, unused-ignore]  # public; the facade hides it from mypy

    try:
        return func(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def _positive(seconds: float, hint: str) -> float:
    """A limit of 0 s would fail every request before it started: refuse it."""
    if seconds <= 0:
        raise click.BadParameter(f"must be longer than 0 s (got {seconds:g} s)", param_hint=hint)
    return seconds


@click.group(invoke_without_command=True, epilog=_METRICS_HELP)
@click.option(
    "--base-url",
    envvar=["LLMKIT_BENCH_BASE_URL", "LLMKIT_BASE_URL", "OPENAI_BASE_URL"],
    help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1.",
)
@click.option(
    "--model",
    "-m",
    envvar=["LLMKIT_BENCH_MODEL", "LLMKIT_MODEL"],
    help="Model name (default: the first one GET /models lists).",
)
@click.option(
    "--api-key",
    envvar=["LLMKIT_BENCH_API_KEY", "LLMKIT_API_KEY", "OPENAI_API_KEY"],
    show_default=False,
    help="Bearer token; never printed or stored.",
)
@click.option(
    "--concurrency",
    "-c",
    metavar="N[,N…]",
    help="Fixed concurrency levels, e.g. 1,4,16 (closed loop) [default: 1 unless --rate].",
)
@click.option(
    "--rate",
    "-r",
    metavar="R[,R…]",
    help="Request rates in requests/s, e.g. 2,8 (open loop). Excludes --concurrency.",
)
@click.option(
    "--requests",
    "-n",
    type=click.IntRange(min=1),
    help="Requests per level [default: 4 x the concurrency, or 10 s worth of --rate; at least 16].",
)
@click.option("--duration", metavar="TIME", help="Length of each level instead, e.g. 30s.")
@click.option(
    "--burstiness",
    type=float,
    default=1.0,
    show_default=True,
    help="Gamma shape of arrivals with --rate: 1 is Poisson, <1 burstier.",
)
@click.option(
    "--max-concurrency",
    type=click.IntRange(min=1),
    help="With --rate: cap on requests in flight [default: no cap].",
)
@click.option(
    "--ramp-up",
    default="0s",
    show_default=True,
    metavar="TIME",
    help="Spread the start of each level's load over this time.",
)
@click.option(
    "--warmup",
    type=int,
    default=0,
    show_default=True,
    help="Requests sent first and left out of the results.",
)
@click.option(
    "--prompt-tokens",
    default="128",
    show_default=True,
    metavar="N[,N…]",
    help="Synthetic prompt length; several values sweep TTFT against input length.",
)
@click.option(
    "--prompt-file",
    type=click.Path(dir_okay=False),
    help="JSONL of chat messages (a list, or {'messages': [...]}, or {'prompt': ...}).",
)
@click.option("--prompt-template", help="Template name from prompts/ (see --var).")
@click.option(
    "--var",
    "template_vars",
    multiple=True,
    metavar="NAME=VALUE",
    help="Template variable (repeatable).",
)
@click.option(
    "--random-prefix",
    is_flag=True,
    help="Start every prompt with a unique random line (defeats prefix caching).",
)
@click.option("--max-tokens", type=int, default=128, show_default=True)
@click.option("--ignore-eos", is_flag=True, help="Ask the server to generate all --max-tokens.")
@click.option("--temperature", type=float)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--stream/--no-stream",
    default=True,
    show_default=True,
    help="Streaming (SSE) or plain responses.",
)
@click.option(
    "--continuous-usage/--no-continuous-usage",
    default=True,
    show_default=True,
    help="Ask for per-chunk usage (stream_options.continuous_usage_stats).",
)
@click.option(
    "--timeout", default="300s", show_default=True, metavar="TIME", help="Per-request limit."
)
@click.option(
    "--stall-timeout",
    default="60s",
    show_default=True,
    metavar="TIME",
    help="Fail a request when no byte came for this long.",
)
@click.option(
    "--max-response-bytes",
    type=click.IntRange(min=1),
    default=32 * 1024 * 1024,  # BenchConfig's and Client's default (a test holds them equal)
    show_default=True,
    metavar="BYTES",
    help="Fail a request (too_large) whose body passes this size, decompressed size "
    "included; the run goes on.",
)
@click.option(
    "--slo", metavar="SPEC", help="Per-request objectives, e.g. ttft=500ms,itl=50ms,e2e=10s."
)
@click.option(
    "--max-error-rate",
    metavar="SHARE",
    help="Exit 1 when a level's failed share exceeds this, e.g. 5% or 0.05 "
    "[default: exit 1 only when a level had no successful request].",
)
@click.option(
    "--find-max",
    is_flag=True,
    help="Search the highest load that still meets --slo, between the lowest and the "
    "highest level given (raise the ceiling with --find-max-limit).",
)
@click.option(
    "--goodput-target",
    type=float,
    default=0.9,
    show_default=True,
    help="Share of requests that must meet --slo for --find-max.",
)
@click.option(
    "--find-max-limit",
    type=float,
    help="Highest load --find-max may try [default: the highest -c/--rate level given].",
)
@click.option(
    "--tokenizer",
    type=click.Path(exists=True, dir_okay=False),
    help="Local tokenizer.json for offline token counts (needs 'tokenizers').",
)
@click.option(
    "--output",
    "-o",
    type=OutputPath(file_okay=False, dir_okay=True),
    help="Write summary.json, requests.csv and plots here.",
)
@click.option("--overwrite", is_flag=True, help="Replace an earlier run in --output.")
@click.option("--no-plots", is_flag=True, help="Do not draw PNG plots.")
@json_option
@click.pass_context
def bench(ctx: click.Context, /, **opts: Any) -> None:
    """Benchmark an endpoint: TTFT, ITL and throughput under load.

    \b
    llmkit bench --base-url http://127.0.0.1:8000/v1 -c 1,4,16 -n 64 -o run1
    llmkit bench --base-url URL --rate 2,8 --duration 30s --slo ttft=500ms,itl=50ms
    llmkit bench compare run1 run2 --metric ttft_ms.p90 --threshold 10%
    """
    if ctx.invoked_subcommand is not None:
        return
    with fail_cleanly():
        _run(opts)


def _run(opts: dict[str, Any]) -> None:
    from llmkit.bench import BenchConfig, check_output_dir, run_bench, write_report
    from llmkit.cli._bench_args import (
        parse_duration,
        parse_float_list,
        parse_int_list,
        parse_share,
        parse_slo,
    )
    from llmkit.cli._bench_tables import print_summary

    if not opts["base_url"]:
        raise click.UsageError("Missing option '--base-url' (or LLMKIT_BASE_URL).")
    if opts["concurrency"] and opts["rate"]:
        raise click.UsageError("--concurrency and --rate exclude each other.")
    if opts["requests"] is not None and opts["duration"]:
        raise click.UsageError("--requests and --duration exclude each other.")
    max_error_rate = (
        _convert(parse_share, opts["max_error_rate"], "--max-error-rate")
        if opts["max_error_rate"] is not None
        else None
    )
    if opts["output"]:  # before any request: a path that cannot be written fails now
        check_output_dir(opts["output"], overwrite=opts["overwrite"])
    config = BenchConfig(
        base_url=opts["base_url"],
        model=opts["model"],
        api_key=opts["api_key"],
        concurrency=_convert(parse_int_list, opts["concurrency"], "--concurrency")
        if opts["concurrency"] else (),
        rates=_convert(parse_float_list, opts["rate"], "--rate") if opts["rate"] else (),
        requests=opts["requests"],
        duration_s=_convert(parse_duration, opts["duration"], "--duration")
        if opts["duration"] else None,
        burstiness=opts["burstiness"],
        max_concurrency=opts["max_concurrency"],
        ramp_up_s=_convert(parse_duration, opts["ramp_up"], "--ramp-up"),
        warmup=opts["warmup"],
        prompt_tokens=_convert(parse_int_list, opts["prompt_tokens"], "--prompt-tokens"),
        prompt_file=opts["prompt_file"],
        prompt_template=opts["prompt_template"],
        template_vars=_pairs(opts["template_vars"]),
        random_prefix=opts["random_prefix"],
        max_tokens=opts["max_tokens"],
        ignore_eos=opts["ignore_eos"],
        temperature=opts["temperature"],
        seed=opts["seed"],
        stream=opts["stream"],
        continuous_usage=opts["continuous_usage"],
        timeout_s=_positive(_convert(parse_duration, opts["timeout"], "--timeout"), "--timeout"),
        stall_timeout_s=_positive(
            _convert(parse_duration, opts["stall_timeout"], "--stall-timeout"), "--stall-timeout"
        ),
        max_response_bytes=opts["max_response_bytes"],
        slo=_convert(parse_slo, opts["slo"], "--slo") if opts["slo"] else None,
        find_max=opts["find_max"],
        goodput_target=opts["goodput_target"],
        find_max_limit=opts["find_max_limit"],
        tokenizer=opts["tokenizer"],
    )  # fmt: skip
    progress = _Progress()
    notes: list[str] = []
    # The run handles signals itself (the first stops it); outside it, a signal waits until
    # the report is whole, so a second Ctrl-C or SIGTERM never leaves half the files.
    with _signals_held() as held:
        try:
            result = run_bench(config, progress.hooks)
        finally:
            if progress.started:  # a stopped bar prints a newline even if it never started
                progress.progress.stop()
        summary = result.summary()
        if opts["output"]:
            _files, notes = write_report(
                result, opts["output"], overwrite=opts["overwrite"], plots=not opts["no_plots"]
            )
    err = err_console()
    if opts["as_json"]:
        print_json(summary)
    else:
        from llmkit.cli._common import console

        print_summary(console(), summary)
    from rich.markup import escape

    for note in notes:
        err.print(f"[yellow]note:[/] {escape(note)}", highlight=False)  # keeps "[plot]"
    if opts["output"]:
        err.print(f"wrote {opts['output']}/summary.json, requests.csv"
                  + (" and plots" if not notes and not opts["no_plots"] else ""))  # fmt: skip
    if held and not result.interrupted:
        err.print(f"[yellow]interrupted[/] ({held[0]}) after the run: the results are whole")
        raise SystemExit(EXIT_STATUS[held[0]])
    if result.interrupted:
        by = result.stopped_by or "SIGINT"
        err.print(f"[yellow]interrupted[/] ({by}): results cover what was measured until then")
        raise SystemExit(EXIT_STATUS.get(by, 130))
    failing = result.error_levels(max_error_rate)
    if failing:
        limit = (
            "no successful request"
            if max_error_rate is None
            else f"above --max-error-rate {100 * max_error_rate:g}%"
        )
        from rich.markup import escape

        detail = "; ".join(f"{label}: {why}" for label, why in failing)
        err.print(
            f"[bold red]error:[/] {escape(detail)} ({limit})", highlight=False, soft_wrap=True
        )
        raise SystemExit(_unusable_endpoint(result) or ExitCode.CHECK_FAILED)


# Failures that say the URL, key or model given cannot be used, not how the endpoint copes.
_UNUSABLE = {"connect", "http_401", "http_403", "http_404"}


def _unusable_endpoint(result: Any) -> ExitCode | None:
    """No request succeeded and every one failed on the URL, key or model given: bad input
    (2), as when GET /models refuses the key, rather than a failed error-rate check (1)."""
    reasons: dict[str, int] = {}
    ok = 0
    for level in result.levels:
        requests = level.stats["requests"]
        ok += requests["ok"]
        for reason, n in requests["failed_reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    if not ok and reasons and set(reasons) <= _UNUSABLE:
        return ExitCode.BAD_INPUT
    return None


@bench.command("compare")
@click.argument("run_a", type=click.Path(exists=True))
@click.argument("run_b", type=click.Path(exists=True))
@click.option(
    "--metric",
    "-m",
    "metrics",
    multiple=True,
    metavar="NAME",
    help="Metric deciding the exit code, e.g. ttft_ms.p90 (repeatable; "
    "default ttft_ms.p50, itl_ms.p50, e2e_ms.p50, "
    "throughput.output_tokens_per_s).",
)
@click.option(
    "--threshold",
    "-t",
    default="10%",
    show_default=True,
    help="Tolerated relative worsening (10% or 0.1).",
)
@click.option(
    "--require-intervals",
    is_flag=True,
    help="Exit 2 when a run's requests.csv is missing, truncated or without values "
    "(the changes could then only be judged on point estimates).",
)
@json_option
def compare(run_a: str, run_b: str, metrics: tuple[str, ...], threshold: str,
            require_intervals: bool, as_json: bool) -> None:  # fmt: skip
    """Compare two runs level by level; exit 1 if a chosen metric got worse.

    RUN_A is the baseline, RUN_B the candidate (directories written by --output).
    A metric regresses when it got worse by more than --threshold and the 95%
    bootstrap interval of the change (over each run's requests.csv) excludes no
    change. A percentile too few requests support (p99 needs 500) is reported as
    insufficient and not gated. Without a usable requests.csv (missing, truncated,
    no values) changes are judged on point estimates alone, and stderr and the JSON
    ("notes") say so. Exit 0: no regression; 1: a regression, or a gated value
    missing; 2: unknown metric, other schema version, different load types, or
    --require-intervals without intervals; 3 (inconclusive): every gated metric
    insufficient.
    """
    from rich.markup import escape

    from llmkit.bench import CompareUsageError, compare_runs, parse_threshold
    from llmkit.cli._bench_tables import compare_table

    with fail_cleanly():
        thr = _convert(parse_threshold, threshold, "--threshold")
        metric_list: list[str] = []
        for m in metrics:
            metric_list.extend(p for p in m.split(",") if p.strip())
        if metrics and not metric_list:  # e.g. --metric "$METRIC" with the variable unset
            _usage_line("--metric is empty: name a metric, e.g. ttft_ms.p90")
        try:
            result = compare_runs(run_a, run_b, metrics=metric_list or None, threshold=thr)
        except CompareUsageError as exc:
            _usage_line(str(exc))
        if as_json:
            print_json(result.to_dict())
        else:
            from llmkit.cli._common import console

            out = console()
            out.print(compare_table(result))
            if result.only_a or result.only_b:
                out.print(
                    f"levels only in A: {list(result.only_a)}; only in B: {list(result.only_b)}",
                    soft_wrap=True,
                )
            if result.matched_by_position:
                out.print("[yellow]no level keys matched; levels were paired by position[/]")
            if result.regressed:
                names = sorted({f"{c.level} {c.metric}" for c in result.regressions})
                names += [f"{level} not measured in B" for level in result.only_a]
                out.print(f"[bold red]regression:[/] {', '.join(names)}", highlight=False,
                          soft_wrap=True)  # fmt: skip
            elif not result.gated_insufficient:
                out.print("[green]no regression beyond the threshold and the noise[/]")
        for note in result.notes:
            err_console().print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
        if require_intervals and result.intervals_missing:
            _usage_line("--require-intervals: " + "; ".join(result.notes))
        if not result.changes:
            err_console().print("[yellow]warning:[/] no levels in common to compare")
        if result.regressed:
            raise SystemExit(1)
        if result.gated_insufficient:  # the data cannot decide: inconclusive, not misuse
            gated = sorted({c.metric for c in result.changes if c.gated})
            raise InconclusiveError(
                f"every gated metric ({', '.join(gated)}) is insufficient: too few requests "
                "beyond the percentile; gate on a lower percentile or send more requests"
            )


def _usage_line(message: str) -> NoReturn:
    """Misuse: one line on stderr, exit 2."""
    from rich.markup import escape

    err_console().print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise SystemExit(2)
