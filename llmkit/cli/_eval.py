"""``llmkit eval SUITE.yaml``: run a suite (replay by default), score, compare, report.

Exit codes (decided by :func:`llmkit.evals.judge_run`, as in the pytest plugin): 0 pass;
1 a regression against the baseline or a pass rate below the suite's ``min_pass_rate``;
2 a configuration or infrastructure error (a missing recording included); 3 inconclusive:
a drop beyond the threshold with too few changed cases for any test to judge.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from llmkit import ConfigError, LLMKitError
from llmkit.cli._common import (
    ExitCode,
    OutputPath,
    Terminated,
    console,
    deprecated_alias,
    err_console,
    require_endpoint,
)
from llmkit.evals import EvalInterrupted

__all__ = ["eval_command"]


def _fail(message: str) -> None:
    click.echo(f"llmkit eval: {message}", err=True)
    sys.exit(ExitCode.BAD_INPUT)


def _empty_is_none(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """``--markdown "$GITHUB_STEP_SUMMARY"`` outside GitHub: no report, and a warning."""
    if value is None:
        return None
    if not value.strip():
        click.echo(
            "warning: --markdown is empty (an unset variable?): no Markdown report", err=True
        )
        return None
    return Path(OutputPath().convert(value, param, ctx))


@click.command("eval")
@click.argument("suite", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--mode",
    type=click.Choice(["replay", "record", "live"]),
    default="replay",
    show_default=True,
    help="replay cassettes (no network), record them, or call live without writing.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A committed earlier summary to compare with (paired tests).",
)
@click.option(
    "--update-baseline",
    is_flag=True,
    help="Compare, then write this run as the new baseline (to --baseline FILE or the "
    "suite's baseline file) unless it fails the gate.",
)
@click.option(
    "--accept-regression",
    is_flag=True,
    help="With --update-baseline: write the baseline even if this run regressed.",
)
@click.option("--junit", type=OutputPath(), help="Write JUnit XML here.")
@click.option(
    "--markdown",
    "summary",
    metavar="FILE",
    callback=_empty_is_none,
    help="Append the Markdown report here (e.g. $GITHUB_STEP_SUMMARY; empty: none).",
)
@deprecated_alias("--summary", "summary", "--markdown", callback=_empty_is_none)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the summary JSON instead of the table."
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Cases at once in record and live modes.",
)
@click.option(
    "--tags", "tags", multiple=True, help="Run only cases with this tag (repeat or comma-separate)."
)
@click.option(
    "--refresh",
    "refresh",
    multiple=True,
    help="Re-record only these cases (repeat the option, or comma-separate); the rest replay.",
)
@click.option(
    "--require-calibration",
    "require_kappa",
    type=float,
    default=None,
    help="Refuse a model-graded judge whose calibration kappa is below this.",
)
@click.option(
    "--results-dir",
    "-o",
    "output",
    type=OutputPath(file_okay=False, dir_okay=True),
    default=None,
    help="Folder for results.jsonl and summary.json (JSON).",
)
@deprecated_alias(
    "--output", "output", "--results-dir", type=OutputPath(file_okay=False, dir_okay=True)
)
@click.option("--base-url", default=None, help="Endpoint for record/live (else LLMKIT_BASE_URL).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="record/live: seconds one call may take, retries included (default 600).",
)
@click.option(
    "--stall-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="record/live: seconds a stream may go without a chunk of data (default 30).",
)
@click.option(
    "--api-key", default=None, help="Key for record/live (better: LLMKIT_API_KEY); never written."
)
@click.option(
    "--shard",
    default=None,
    metavar="I/N",
    help="Run slice I of N (by case-id hash; merge with `llmkit eval merge`).",
)
@click.option(
    "--compare",
    nargs=2,
    default=None,
    metavar="A B",
    help="Matrix suites: column B against column A by the baseline's paired tests.",
)
@click.argument("more_refresh", nargs=-1, metavar="")
def eval_command(
    suite: Path,
    mode: str,
    baseline: Path | None,
    update_baseline: bool,
    accept_regression: bool,
    junit: Path | None,
    summary: Path | None,
    as_json: bool,
    concurrency: int,
    tags: tuple[str, ...],
    refresh: tuple[str, ...],
    require_kappa: float | None,
    output: Path | None,
    base_url: str | None,
    timeout: float | None,
    stall_timeout: float | None,
    api_key: str | None,
    shard: str | None,
    compare: tuple[str, str] | None,
    more_refresh: tuple[str, ...],
) -> None:
    """Run an evaluation suite over recorded model traffic and gate CI on it.

    \b
    SUITE is a prompts/*.eval.yaml file. Extra arguments after --refresh CASE are more
    cases to refresh: `llmkit eval s.eval.yaml --refresh a b c`.

    \b
    Subcommands: `llmkit eval merge RESULT...` joins --shard results into one run;
    `llmkit eval view RESULTS -o report.html` writes a static HTML report.
    """
    refresh_cases = [c for item in (*refresh, *more_refresh) for c in item.split(",") if c]
    if more_refresh and not refresh:
        _fail(f"unexpected argument {more_refresh[0]!r}")
    tag_list = [t for item in tags for t in item.split(",") if t]
    if accept_regression and not update_baseline:
        _fail("--accept-regression goes with --update-baseline")
    if mode != "replay":
        base_url = require_endpoint(base_url)
    timeouts = _timeouts(timeout, stall_timeout)
    try:
        code = _run(
            suite,
            mode,
            baseline,
            (update_baseline, accept_regression),
            junit,
            summary,
            as_json,
            concurrency,
            tag_list,
            refresh_cases,
            require_kappa,
            output,
            base_url,
            api_key,
            err_console() if as_json else console(),
            shard,
            compare,
            timeouts,
        )
    except EvalInterrupted as stop:
        _stopped(stop, output)
    except LLMKitError as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return
    except BrokenPipeError:
        raise  # the reader went away (`| head`): the root guard ends quietly
    except OSError as exc:
        _fail(f"{getattr(exc, 'filename', '') or ''} {exc.strerror or exc}".strip())
        return
    sys.exit(code)


def _stopped(stop: EvalInterrupted, output: Path | None) -> NoReturn:
    """Ctrl-C or SIGTERM mid-run: keep what finished, say which cassettes changed."""
    from llmkit.evals import write_results

    if output is not None and stop.run.cases:
        output.mkdir(exist_ok=True)
        write_results(stop.run, output / "results.jsonl")
        summary = {**stop.run.summary(), "interrupted": True}
        (output / "summary.json").write_text(
            json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
    kept = f"; results of those in {output}" if output is not None and stop.run.cases else ""
    click.echo(
        f"llmkit eval: interrupted after {len(stop.run.cases)} finished cases{kept}; "
        f"cassettes re-recorded: {', '.join(stop.recorded) or 'none'}",
        err=True,
    )
    terminated = isinstance(stop.__cause__, Terminated)
    sys.exit(ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED)


def _timeouts(total: float | None, stall: float | None) -> Any:
    """The client's limits from ``--timeout``/``--stall-timeout`` (``None``: the defaults)."""
    if total is None and stall is None:
        return None
    from llmkit.llm import Timeouts

    default = Timeouts()
    return Timeouts(total=total or default.total, stall=stall or default.stall)


def _run(
    suite_path: Path,
    mode: str,
    baseline: Path | None,
    update: tuple[bool, bool],
    junit: Path | None,
    summary_md: Path | None,
    as_json: bool,
    concurrency: int,
    tags: list[str],
    refresh: list[str],
    require_kappa: float | None,
    output: Path | None,
    base_url: str | None,
    api_key: str | None,
    console: Any,
    shard_spec: str | None = None,
    compare: tuple[str, str] | None = None,
    timeouts: Any = None,
) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from llmkit.evals import (
        EvalRun,
        baseline_path,
        load_baseline,
        load_suite,
        parse_shard,
        require_calibration,
        run_suite,
    )

    update_baseline, _ = update
    shard = parse_shard(shard_spec) if shard_spec is not None else None
    suite = load_suite(suite_path)
    if require_kappa is not None:
        require_calibration(suite, require_kappa)
    is_matrix = bool(suite.matrix_prompts or suite.matrix_models)
    if compare and not is_matrix:
        raise ConfigError(f"{suite.path}: --compare needs a suite with a 'matrix:' block")
    if is_matrix and (baseline is not None or update_baseline):
        raise ConfigError("a matrix compares its columns (--compare A B), not a --baseline")
    known = None if is_matrix else baseline_path(suite, baseline)
    if known is not None and not update_baseline:
        load_baseline(known)  # an unusable baseline exits 2 before any call is made
    if known is None and update_baseline:
        _fail("--update-baseline needs --baseline FILE or 'file:' in the suite's baseline block")
    chosen = [c.id for c in suite.select(set(tags))]
    if shard is not None:
        chosen = shard.select(chosen)
        refresh = [c for c in refresh if c in chosen]

    def run_one(cell: Any) -> Any:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task(f"eval {cell.name}", total=len(chosen))
            if not chosen:
                return EvalRun(cell, mode, (), 0.0)  # an empty shard of a small suite
            return run_suite(
                cell,
                mode,
                base_url=base_url,
                api_key=api_key,
                concurrency=concurrency,
                tags=tags,
                refresh=refresh,
                cases=chosen if shard is not None else (),
                progress=lambda _c: progress.advance(task),
                timeouts=timeouts,
            )

    extra = {"shard": {**shard.to_dict(), "tags": tags}} if shard is not None else {}
    if is_matrix:
        from llmkit.cli._eval_matrix import run_matrix_cli

        return run_matrix_cli(
            suite, run_one, compare, junit, summary_md, as_json, output, console, extra
        )
    run = run_one(suite)
    return finish_run(run, baseline, update, junit, summary_md, as_json, output, console, extra)


def finish_run(
    run: Any,
    baseline: Path | None,
    update: tuple[bool, bool],
    junit: Path | None,
    summary_md: Path | None,
    as_json: bool,
    output: Path | None,
    console: Any,
    extra: dict[str, Any] | None = None,
) -> int:
    """Judge a finished run and write every report (shared by ``eval`` and ``eval merge``)."""
    from llmkit.evals import (
        add_junit_costs,
        apply_cost,
        cost_line,
        judge_run,
        markdown_summary,
        print_table,
        write_junit,
        write_results,
    )

    update_baseline, accept_regression = update
    suite = run.suite
    if extra and "shard" in extra and not run.cases:
        # an empty slice of a small suite passes; the merge of all slices gates
        result, comparison, lines, problems = run.summary(), None, [], []
        result["exit_code"], result["ok"] = 0, True
    else:
        verdict = judge_run(
            run,
            baseline=baseline,
            update_baseline=update_baseline,
            accept_regression=accept_regression,
        )
        result, comparison = verdict.summary, verdict.comparison
        lines, problems = list(verdict.lines), list(verdict.problems)
    problems += apply_cost(result, run)
    result.update(extra or {})
    if output is not None:
        write_results(run, output / "results.jsonl")
        (output / "summary.json").write_text(
            json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
    if junit is not None:
        write_junit(run, junit, comparison)
        add_junit_costs(junit, result)
    if summary_md is not None:
        with summary_md.open("a", encoding="utf-8") as f:  # append: $GITHUB_STEP_SUMMARY is shared
            md = comparison.to_markdown() if comparison is not None else None
            f.write(markdown_summary(run, result, lines, md) + f"\n{cost_line(result)}\n")
    if as_json:
        click.echo(json.dumps(result, indent=2, allow_nan=False))
    else:
        print_table(run, console)
        console.print(
            f"{result['passed_cases']}/{result['cases']} cases passed "
            f"(pass rate {result['pass_rate']:.1%}, required {suite.min_pass_rate:.0%})"
        )
        for line in [*lines, cost_line(result)]:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    for problem in problems:
        click.echo(f"llmkit eval: {problem}", err=True)
    return int(result["exit_code"])
