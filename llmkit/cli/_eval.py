"""``llmkit eval SUITE.yaml``: run a suite (replay by default), score, compare, report.

Exit codes: 0 pass; 1 a regression against the baseline or a pass rate below the suite's
``min_pass_rate``; 2 a configuration or infrastructure error (a missing recording included).
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
    help="Write this run's summary as the new baseline (to --baseline FILE).",
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
    junit: Path | None,
    summary: Path | None,
    as_json: bool,
    concurrency: int,
    tags: tuple[str, ...],
    refresh: tuple[str, ...],
    require_kappa: float | None,
    output: Path | None,
    base_url: str | None,
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
    if mode != "replay":
        base_url = require_endpoint(base_url)
    if update_baseline and baseline is None:
        _fail("--update-baseline needs --baseline FILE (where to write it)")
    try:
        code = _run(
            suite,
            mode,
            baseline,
            update_baseline,
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


def _run(
    suite_path: Path,
    mode: str,
    baseline: Path | None,
    update_baseline: bool,
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
) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from llmkit.evals import (
        EvalRun,
        load_baseline,
        load_suite,
        parse_shard,
        require_calibration,
        run_suite,
    )

    shard = parse_shard(shard_spec) if shard_spec is not None else None
    suite = load_suite(suite_path)
    if require_kappa is not None:
        require_calibration(suite, require_kappa)
    baseline_data = None
    if baseline is not None and not update_baseline:
        baseline_data = load_baseline(baseline)
    chosen = [c.id for c in suite.select(set(tags))]
    if shard is not None:
        chosen = shard.select(chosen)
        if refresh:
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
            )

    if suite.matrix_prompts or suite.matrix_models or compare:
        from llmkit.cli._eval_matrix import run_matrix_cli

        if not (suite.matrix_prompts or suite.matrix_models):
            raise ConfigError(f"{suite.path}: --compare needs a suite with a 'matrix:' block")
        if baseline is not None:
            raise ConfigError("a matrix compares its columns (--compare A B), not --baseline")
        return run_matrix_cli(suite, run_one, compare, junit, summary_md, as_json, output, console)
    run = run_one(suite)
    extra = {"shard": {**shard.to_dict(), "tags": tags}} if shard is not None else {}
    return finish_run(
        run,
        baseline_data,
        baseline,
        update_baseline,
        junit,
        summary_md,
        as_json,
        output,
        console,
        extra,
    )


def finish_run(
    run: Any,
    baseline_data: dict[str, Any] | None,
    baseline: Path | None,
    update_baseline: bool,
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
        compare_to_baseline,
        cost_line,
        markdown_summary,
        print_table,
        write_baseline,
        write_junit,
        write_results,
    )

    suite = run.suite
    result = run.summary()
    cost_problems = apply_cost(result, run)
    if extra:
        result.update(extra)
        if "shard" in extra and not run.cases:  # an empty slice passes; the merge gates
            result["exit_code"], result["ok"] = 0, True
    comparison = None
    lines: list[str] = []
    if baseline_data is not None and result["exit_code"] != 2:
        comparison = compare_to_baseline(result, baseline_data)
        result["comparison"] = comparison.to_dict()
        lines = list(comparison.lines())
        if comparison.regressed and result["exit_code"] == 0:
            result["exit_code"], result["ok"] = 1, False
    if update_baseline and baseline is not None:
        if result["exit_code"] == 2:
            raise LLMKitError("not writing a baseline from a run with errors")
        write_baseline(result, baseline)
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
    code = int(result["exit_code"])
    for error in [*run.errors, *cost_problems]:
        click.echo(f"llmkit eval: {error}", err=True)
    if code == 1:
        if comparison is not None and comparison.regressed:
            for line in comparison.regressions:
                click.echo(f"llmkit eval: regression: {line}", err=True)
        if run.pass_rate < suite.min_pass_rate:
            failing = [c.case.id for c in run.cases if not c.passed]
            click.echo(
                f"llmkit eval: pass rate {run.pass_rate:.1%} below min_pass_rate "
                f"{suite.min_pass_rate:.0%}; failing: {', '.join(failing)}",
                err=True,
            )
    return code
