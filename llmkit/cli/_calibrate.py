"""``llmkit calibrate SUITE.yaml --scorer NAME``: a judge against the human ratings.

Exit codes: 0 calibrated (and κ at least ``--min-kappa`` when given); 1 κ below
``--min-kappa``; 2 misuse or an infrastructure error (no such judge, no ratings, a missing
recording in replay), with one line on stderr; 3 no usable item (every verdict unreadable,
or no item with a human consensus): nothing is saved.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmkit import LLMKitError

__all__ = ["calibrate_command"]


def _fail(message: str) -> None:
    click.echo(f"llmkit calibrate: {message}", err=True)
    sys.exit(2)


@click.command("calibrate")
@click.argument("suite", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scorer", required=True, help="The judge scorer's name in the suite.")
@click.option(
    "--db",
    default=None,
    help="Annotation store: SQLite path or URL (default: $LLMKIT_HOME/annotate.db).",
)
@click.option(
    "--mode",
    type=click.Choice(["replay", "record", "live"]),
    default="replay",
    show_default=True,
    help="replay the judge's recorded calls (no network), record them, or call live.",
)
@click.option("--base-url", default=None, help="The judge's endpoint (record and live).")
@click.option("--api-key", default=None, help="API key (record and live; never written).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Judge the first N items only.")
@click.option(
    "--seed", type=click.IntRange(0), default=0, show_default=True, help="Bootstrap seed."
)
@click.option(
    "--resamples",
    type=click.IntRange(100),
    default=2000,
    show_default=True,
    help="Bootstrap resamples for the intervals.",
)
@click.option(
    "--min-kappa",
    type=click.FloatRange(-1.0, 1.0),
    default=None,
    help="Exit 1 when the judge's kappa (current rubric version) is below this.",
)
@click.option("--no-save", is_flag=True, help="Do not store the result beside the suite.")
@click.option("--json", "as_json", is_flag=True, help="Print the calibration as JSON.")
def calibrate_command(
    suite: Path,
    scorer: str,
    db: str | None,
    mode: str,
    base_url: str | None,
    api_key: str | None,
    limit: int | None,
    seed: int,
    resamples: int,
    min_kappa: float | None,
    no_save: bool,
    as_json: bool,
) -> None:
    """Compare the model-graded scorer NAME of SUITE with people's ratings of the same items."""
    from llmkit.cli._common import ExitCode, print_json, require_endpoint
    from llmkit.evals import calibrate, load_suite, save_calibration

    if not suite.is_file():
        _fail(f"no suite file {suite}")
    if mode != "replay":
        base_url = require_endpoint(base_url)
    try:
        loaded = load_suite(suite)
        result = calibrate(
            loaded,
            scorer,
            db=db,
            mode=mode,
            base_url=base_url,
            api_key=api_key,
            limit=limit,
            n_resamples=resamples,
            seed=seed,
        )
        usable = max((g.n_items for g in result.groups), default=0)
        keep = usable > 0 and not no_save and mode != "live"
        saved = save_calibration(result, loaded) if keep else None
    except (LLMKitError, OSError) as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return
    except Exception as exc:  # a cassette error from vcrpy, or anything else: one line, exit 2
        _fail(f"{type(exc).__name__}: {exc}".splitlines()[0])
        return
    if as_json:
        print_json({**result.to_dict(), "saved_to": str(saved) if saved else None})
    else:
        for line in result.lines():
            click.echo(line)
        if saved is not None:
            click.echo(f"saved to {saved}")
    if usable == 0:  # nothing to compare: no calibration, not a calibration of 0 items
        click.echo(
            f"llmkit calibrate: judge {scorer!r}: no usable items ({result.n_judged} judged, "
            f"{len(result.unreadable)} with an unreadable verdict); nothing saved",
            err=True,
        )
        sys.exit(ExitCode.INCONCLUSIVE)
    if min_kappa is not None:
        kappa = result.kappa
        if kappa is None or kappa < min_kappa:
            shown = "undefined" if kappa is None else f"{kappa:.3f}"
            click.echo(
                f"llmkit calibrate: judge {scorer!r} kappa {shown} is below {min_kappa:g}", err=True
            )
            sys.exit(1)
