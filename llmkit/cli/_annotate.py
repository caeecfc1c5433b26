"""``llmkit annotate``: rubrics, conversations, users, sampling, adjudication, reports, export.

Thin: every subcommand parses its arguments and calls :mod:`llmkit.annotate`. The store is
``--db`` (a SQLAlchemy URL or a SQLite file; env ``LLMKIT_ANNOTATE_DB``), by default
``$LLMKIT_HOME/annotate.db``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from llmkit.cli._annotate_agreement import agreement
from llmkit.cli._annotate_serve import serve
from llmkit.cli._common import (
    OutputPath,
    console,
    deprecated_alias,
    fail_cleanly,
    json_option,
    make_table,
    print_json,
    require_extras,
)

__all__ = ["annotate"]

F = TypeVar("F", bound=Callable[..., Any])
PASSWORD_ENV = "LLMKIT_ANNOTATE_PASSWORD"


def db_option(func: F) -> F:
    return click.option(
        "--db",
        envvar="LLMKIT_ANNOTATE_DB",
        help="Store: SQLAlchemy URL (sqlite:///…, postgresql+psycopg://…) or SQLite file "
        "[default: $LLMKIT_HOME/annotate.db].",
    )(func)


def _store(db: str | None) -> Any:
    from llmkit.annotate import Store

    return Store(db)


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


@click.group()
def annotate() -> None:
    """Human annotation: rubrics, raters' queues, agreement, adjudication, daily metrics."""


annotate.add_command(agreement)
annotate.add_command(serve)


@annotate.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--from-log", is_flag=True, help="Import the call log's calls instead of FILE.")
@click.option(
    "--log-path",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Call log file (implies --from-log) [default: $LLMKIT_HOME/calls.db].",
)
@deprecated_alias(
    "--log", "log_path", "--log-path", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--redact", is_flag=True, help="Replace e-mail addresses and phone numbers.")
@db_option
@json_option
def import_(
    file: str | None,
    from_log: bool,
    log_path: Path | None,
    redact: bool,
    db: str | None,
    as_json: bool,
) -> None:
    """Import conversations from FILE.jsonl (id, messages, metadata, gold; - for stdin).

    A malformed line, an unknown field or a repeated id rejects the whole file, naming the
    line: nothing is half-imported.
    """
    from llmkit.annotate import import_jsonl, import_log

    from_log = from_log or log_path is not None
    if bool(file) == from_log:
        raise click.UsageError("give FILE.jsonl or --from-log (one of them)")
    with fail_cleanly():
        with _store(db) as store:
            if from_log:
                result = import_log(store, log_path, redact=redact)
            elif file == "-":
                result = import_jsonl(store, sys.stdin, redact=redact, name="<stdin>")
            else:
                assert file is not None
                result = import_jsonl(store, file, redact=redact)
    if as_json:
        print_json(result.to_dict())
        return
    extra = f", {result.skipped} already there" if result.skipped else ""
    red = f", {result.redacted} e-mails/phones redacted" if redact else ""
    console().print(f"imported {result.imported} conversations from {result.source}{extra}{red}")


@annotate.group()
def user() -> None:
    """Manage raters, adjudicators and admins."""


def _read_password(password_env: str | None) -> str:
    if password_env:
        value = os.environ.get(password_env)
        if value is None:
            raise click.UsageError(f"--password-env {password_env}: that variable is not set")
        return value
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV]
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["rater", "adjudicator", "admin"]),
    default="rater",
    show_default=True,
)
@click.option(
    "--password-env",
    metavar="VAR",
    help=f"Read the password from this environment variable [default: {PASSWORD_ENV}, "
    "else the first line of stdin, else a prompt]. Never given as an argument.",
)
@db_option
@json_option
def user_add(name: str, role: str, password_env: str | None, db: str | None, as_json: bool) -> None:
    """Create user NAME; the password comes from stdin or an environment variable."""
    password = _read_password(password_env)
    with fail_cleanly(), _store(db) as store:
        created = store.add_user(name, role, password)
    if as_json:
        print_json(created.to_dict())
    else:
        console().print(f"added {created.role} {created.name}")


@user.command("list")
@db_option
@json_option
def user_list(db: str | None, as_json: bool) -> None:
    """List users and their roles."""
    from llmkit.annotate import name_collisions

    with fail_cleanly(), _store(db) as store:
        people = store.users()
        collisions = name_collisions(store)
    if as_json:
        print_json([u.to_dict() for u in people])
        return
    for u in people:
        state = "" if u.active else "\tinactive"
        console().print(f"{u.name}\t{u.role}{state}", highlight=False)
    for names in collisions:
        click.echo(
            f"warning: {', '.join(names)} now count as one name (case and width are ignored); "
            "they keep working, but rename or deactivate all but one",
            err=True,
        )


def _account_change(change: Callable[[Any, str], str]) -> Callable[..., None]:
    """A ``user`` subcommand that changes account NAME and prints one line."""

    @db_option
    @click.argument("name")
    def command(name: str, db: str | None) -> None:
        with fail_cleanly(), _store(db) as store:
            console().print(change(store, name), highlight=False)

    command.__doc__ = change.__doc__
    return command


def _deactivate(store: Any, name: str) -> str:
    """Deactivate user NAME: their sessions end at once and they cannot log in."""
    from llmkit.annotate import set_active

    set_active(store, name, False)
    return f"deactivated {name}"


def _reactivate(store: Any, name: str) -> str:
    """Let user NAME log in again."""
    from llmkit.annotate import set_active

    set_active(store, name, True)
    return f"reactivated {name}"


def _revoke(store: Any, name: str) -> str:
    """End every session of user NAME (they log in again)."""
    from llmkit.annotate import revoke_sessions

    return f"ended {revoke_sessions(store, name)} sessions of {name}"


def _unlock(store: Any, name: str) -> str:
    """Lift the login lockout of user NAME (after too many wrong passwords)."""
    from llmkit.annotate import clear_login_failures

    clear_login_failures(store, store.user(name).name)
    return f"unlocked {name}"


for _name, _change in [
    ("deactivate", _deactivate),
    ("reactivate", _reactivate),
    ("revoke", _revoke),
    ("unlock", _unlock),
]:
    user.command(_name)(_account_change(_change))


@user.command("password")
@click.argument("name")
@click.option(
    "--password-env",
    metavar="VAR",
    help=f"Read the new password from this environment variable [default: {PASSWORD_ENV}, "
    "else the first line of stdin, else a prompt].",
)
@db_option
def user_password(name: str, password_env: str | None, db: str | None) -> None:
    """Set a new password for user NAME; their sessions end."""
    from llmkit.annotate import set_password

    password = _read_password(password_env)
    with fail_cleanly(), _store(db) as store:
        set_password(store, name, password)
    console().print(f"new password set for {name}; their sessions ended", highlight=False)


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["rater", "adjudicator", "admin"]))
@db_option
def user_role(name: str, role: str, db: str | None) -> None:
    """Give user NAME another ROLE."""
    from llmkit.annotate import set_role

    with fail_cleanly(), _store(db) as store:
        set_role(store, name, role)
    console().print(f"{name} is now {role}", highlight=False)


@annotate.command()
@click.argument("rubric", default="assistant-quality")
@json_option
def rubric(rubric: str, as_json: bool) -> None:
    """Validate and show RUBRIC (a name under annotation/rubrics, or a YAML file)."""
    from llmkit.annotate import load_rubric

    with fail_cleanly():
        loaded = load_rubric(rubric)
    if as_json:
        print_json(loaded.to_dict())
        return
    out = console()
    out.print(f"[bold]{loaded.name}[/] {loaded.title} (content {loaded.content_hash[:12]}) ✓ valid")
    for dim in loaded.dimensions:
        values = "/".join(dim.scale.values()) or "free text"
        default = f", default {dim.default}" if dim.default is not None else ""
        out.print(f"  {dim.key:<16} {dim.scale.type:<12} {values}{default}", highlight=False)


@annotate.command("sample")
@click.option("-n", "--n", "n", type=click.IntRange(min=1), required=True, help="Items to draw.")
@click.option("--day", help="The day it is for, YYYY-MM-DD [default: today, UTC].")
@click.option("--stratify-by", help="Metadata field to stratify by (dotted for nested).")
@click.option("--seed", type=int, help="RNG seed [default: from the day].")
@db_option
@json_option
def sample_cmd(
    n: int,
    day: str | None,
    stratify_by: str | None,
    seed: int | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Draw the day's N conversations, never sampled before, stratified by a metadata field."""
    from llmkit.annotate import sample

    with fail_cleanly(), _store(db) as store:
        drawn = sample(store, n, day=day, stratify_by=stratify_by, seed=seed)
    if as_json:
        print_json(drawn.to_dict())
        return
    strata = f" by {stratify_by}: {drawn.strata}" if stratify_by else ""
    console().print(
        f"sample {drawn.id} for {drawn.day}: {len(drawn.item_ids)} of {drawn.available} "
        f"available{strata}",
        highlight=False,
    )


@annotate.command("assign")
@click.option("--rater", "raters", multiple=True, required=True, help="A rater (repeat).")
@click.option("--rubric", default="assistant-quality", show_default=True, help="Name or file.")
@click.option("--sample", "sample_id", type=int, help="Sample id [default: the latest].")
@click.option("--day", help="Assign the latest sample of this day.")
@click.option(
    "--overlap",
    type=click.FloatRange(0, 1),
    default=0.2,
    show_default=True,
    help="Share of items rated by several raters, blind to each other.",
)
@click.option("--raters-per-item", type=click.IntRange(min=2), default=2, show_default=True)
@click.option(
    "--gold",
    "gold",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Gold items mixed into each queue.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@db_option
@json_option
def assign_cmd(
    raters: tuple[str, ...],
    rubric: str,
    sample_id: int | None,
    day: str | None,
    overlap: float,
    raters_per_item: int,
    gold: int,
    seed: int,
    db: str | None,
    as_json: bool,
) -> None:
    """Put a sample into the raters' queues, with overlap and gold items."""
    from llmkit.annotate import assign, load_rubric

    with fail_cleanly(), _store(db) as store:
        result = assign(
            store,
            list(raters),
            rubric=load_rubric(rubric),
            sample_id=sample_id,
            day=day,
            overlap=overlap,
            raters_per_item=raters_per_item,
            gold_per_rater=gold,
            seed=seed,
        )
    if as_json:
        print_json(result.to_dict())
        return
    console().print(
        f"sample {result.sample_id} assigned with {result.rubric}: {result.per_rater}; "
        f"{result.overlap_items} overlap items, {result.gold_items} gold",
        highlight=False,
    )


@annotate.command("queue")
@click.argument("rater")
@click.option("--day", help="YYYY-MM-DD [default: the rater's latest].")
@db_option
@json_option
def queue_cmd(rater: str, day: str | None, db: str | None, as_json: bool) -> None:
    """Show RATER's queue and progress (what the rater sees: no gold flags)."""
    with fail_cleanly(), _store(db) as store:
        entries = store.queue(rater, day=day)
    if as_json:
        print_json([{k: v for k, v in e.to_dict().items() if k != "messages"} for e in entries])
        return
    done = sum(e.status != "pending" for e in entries)
    console().print(f"{rater}: {done}/{len(entries)} done", highlight=False)


@annotate.command("adjudicate")
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Likert points raters may differ by before an item is disputed.",
)
@click.option("--item", help="Settle this item (with --dimension, --value, --by).")
@click.option("--dimension")
@click.option("--value")
@click.option("--by", help="The adjudicator's user name.")
@click.option("--note", help="Why (kept with the final label).")
@db_option
@json_option
def adjudicate_cmd(
    threshold: float,
    item: str | None,
    dimension: str | None,
    value: str | None,
    by: str | None,
    note: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """List disputed items, or settle one with a final label (provenance kept)."""
    from rich.markup import escape

    from llmkit.annotate import adjudication_queue, set_final_label

    settling = [item, dimension, value, by]
    if any(settling) and not all(settling):
        raise click.UsageError("to settle an item give --item, --dimension, --value and --by")
    with fail_cleanly(), _store(db) as store:
        if all(settling):
            assert item and dimension and by
            label_id = set_final_label(store, item, dimension, value, by=by, note=note)
            if as_json:
                print_json({"final_label_id": label_id, "item_id": item, "dimension": dimension})
            else:
                console().print(f"settled {item} / {dimension} = {value} by {by}", highlight=False)
            return
        disputes = adjudication_queue(store, threshold=threshold)
    if as_json:
        print_json([d.to_dict() for d in disputes])
        return
    table = make_table(
        "item", "dimension", "ratings", "spread",
        title=f"{len(disputes)} disputed item-dimensions (threshold {threshold:g})",
        numeric=("spread",),
    )  # fmt: skip
    for d in disputes:
        ratings = ", ".join(f"{r}={v}" for r, v in sorted(d.values.items()))
        table.add_row(escape(d.item_id), d.dimension, escape(ratings), f"{d.spread:g}")
    console().print(table)


@annotate.command("report")
@click.option("--days", type=click.IntRange(min=1), help="Only the last N days with ratings.")
@click.option(
    "--plot",
    type=OutputPath(),
    help="Write a trend plot (PNG) here (needs the plot extra).",
)
@click.option("--resamples", type=click.IntRange(min=100), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@db_option
@json_option
def report_cmd(
    days: int | None, plot: Path | None, resamples: int, seed: int, db: str | None, as_json: bool
) -> None:
    """Quality metrics per day and rubric version with 95% intervals, and per-rater reports."""

    from llmkit.annotate import daily_metrics, plot_trend, rater_drift, rater_report

    if plot is not None:
        require_extras("llmkit annotate report --plot", "plot")
    with fail_cleanly(), _store(db) as store:
        metrics = daily_metrics(store, days=days, n_resamples=resamples, seed=seed)
        raters = rater_report(store, seed=seed)
        drift = rater_drift(store)
        if plot is not None:
            plot_trend(metrics, plot, scales=_likert_scales(store))
    if as_json:
        import json

        print_json(
            {
                "metrics": json.loads(metrics.to_json(orient="records")),
                "raters": json.loads(raters.to_json(orient="records")),
                "drift": json.loads(drift.to_json(orient="records")),
                "plot": str(plot) if plot else None,
            }
        )
        return
    out = console()
    if metrics.empty:
        out.print("no ratings yet")
        return
    table = make_table(
        "day", "rubric", "metric", "estimate", "interval", "items",
        title="quality per day and rubric version (95% bootstrap intervals)",
        numeric=("estimate", "items"),
    )  # fmt: skip
    for row in metrics.to_dict("records"):
        table.add_row(
            str(row["day"]),
            f"{row['rubric']} v{row['rubric_version']}",
            str(row["metric"]),
            f"{row['estimate']:.2f}",
            f"[{row['low']:.2f}, {row['high']:.2f}]",
            str(row["n_items"]),
        )
    out.print(table)
    people = make_table(
        "rater", "items", "gold acc.", "agree w/ consensus", "κ", "median s", title="raters",
        numeric=("items", "gold acc.", "agree w/ consensus", "κ", "median s"),
    )  # fmt: skip
    for row in raters.to_dict("records"):
        people.add_row(
            str(row["rater"]),
            str(row["items"]),
            _f(row["gold_accuracy"]),
            _f(row["consensus_agreement"]),
            _f(row["consensus_kappa"]),
            _f(row["median_seconds"], 0),
        )
    out.print(people)
    if drift["day"].nunique() > 1:  # drift needs more than one day to show
        trend = make_table(
            "rater", "day", "ratings", "gold acc.", "bias",
            title="rater drift: gold accuracy and bias vs the others, per day",
            numeric=("ratings", "gold acc.", "bias"),
        )  # fmt: skip
        for row in drift.to_dict("records"):
            trend.add_row(
                str(row["rater"]),
                str(row["day"]),
                str(row["ratings"]),
                _f(row["gold_accuracy"]),
                _f(row["bias"]),
            )
        out.print(trend)
    if plot is not None:
        out.print(f"trend plot: {plot}")


def _likert_scales(store: Any) -> dict[str, tuple[float, float]]:
    """The range of each mean metric: its likert dimension's lowest and highest point."""
    scales: dict[str, tuple[float, float]] = {}
    for version in store.rubric_versions():
        for dim in version.rubric.dimensions:
            if dim.scale.type == "likert" and dim.scale.points:
                points = sorted(dim.scale.points)
                low, high = scales.get(f"{dim.key}_mean", (points[0], points[-1]))
                scales[f"{dim.key}_mean"] = (min(low, points[0]), max(high, points[-1]))
    return scales


@annotate.command("export")
@click.argument("file", type=OutputPath())
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="[default: suffix]")
@db_option
def export_cmd(file: Path, fmt: str | None, db: str | None) -> None:
    """Write every rating (with rater ids and rubric versions) to FILE (.csv or .jsonl)."""
    from llmkit.annotate import export_ratings

    if fmt is None and file.suffix.lower() not in (".csv", ".jsonl"):
        raise click.UsageError("FILE must end in .csv or .jsonl, or give --format")
    with fail_cleanly(), _store(db) as store:
        n = export_ratings(store, file, fmt=fmt)
    console().print(f"wrote {n} ratings to {file}")
