"""``llmkit annotate agreement FILE.csv --level LEVEL [--json]``: inter-rater agreement of a CSV.

The CSV is long format, one rating per row, with columns ``item,rater,value`` (header
case and spaces ignored, extra columns ignored, UTF-8 with or without BOM; ``-`` reads
stdin). Values are numbers when every value parses as one, labels otherwise. A bad row
(wrong field count, empty field, the same item rated twice by one rater) exits 2 naming
its line; so does ``--level interval|ratio`` over labels.

``--json`` prints one object: ``krippendorff_alpha`` (at ``--level``), ``fleiss_kappa``
(over the items with the most ratings), ``cohen_kappa`` (unweighted; two raters only)
with ``cohen_kappa_linear`` and ``cohen_kappa_quadratic``, ``gwet_ac1``,
``percent_agreement``, ``n_items``, ``n_raters`` and more counts; a statistic that is
undefined on the data is ``null``, never NaN. ``--ci`` adds ``confidence_intervals``.
"""

from __future__ import annotations

import csv
import sys
from typing import Any, NoReturn

import click

from llmkit.annotate import (
    LEVELS,
    AgreementDataError,
    AgreementSummary,
    agreement_summary,
    read_ratings_csv,
)
from llmkit.cli._common import console, err_console, json_option, print_json

__all__ = ["agreement"]

_LABELS = {
    "krippendorff_alpha": "Krippendorff's α",
    "fleiss_kappa": "Fleiss' κ",
    "cohen_kappa": "Cohen's κ",
    "cohen_kappa_linear": "Cohen's κ (linear)",
    "cohen_kappa_quadratic": "Cohen's κ (quadratic)",
    "gwet_ac1": "Gwet's AC1",
    "percent_agreement": "Percent agreement",
}


def _misuse(message: str) -> NoReturn:
    from rich.markup import escape

    err_console().print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise SystemExit(2)


@click.command("agreement")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    default="nominal",
    show_default=True,
    help="Level of measurement for Krippendorff's α.",
)
@click.option(
    "--categories",
    metavar="A,B,...",
    help="The scale in order (labels for ordinal α and weighted κ; unused ones count for AC1).",
)
@click.option("--ci", is_flag=True, help="Add seeded bootstrap intervals (items resampled).")
@click.option(
    "--resamples", type=click.IntRange(1), default=2000, show_default=True, help="With --ci."
)
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Interval level, with --ci.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option(
    "--dimension",
    help="For a file written by `annotate export`: the rubric dimension to compare "
    "[default: the first one with scores].",
)
@json_option
def agreement(
    file: str,
    level: str,
    dimension: str | None,
    categories: str | None,
    ci: bool,
    resamples: int,
    confidence: float,
    seed: int,
    as_json: bool,
) -> None:
    """Agreement between raters in FILE.csv (columns item,rater,value; - for stdin).

    Values are numbers when every value parses as one, labels otherwise (ordered by sort
    order where an order is needed). One rating per item and rater: a repeat, a short row
    or an empty field exits 2 naming its line.

    \b
    krippendorff_alpha  items with 2+ ratings, at --level
    fleiss_kappa        items with the largest number of ratings any item has
    cohen_kappa         exactly two raters, items both rated (+ _linear, _quadratic)
    gwet_ac1            Gwet's AC1, missing ratings allowed
    percent_agreement   mean over items with 2+ ratings of the share of agreeing pairs
    Undefined on the data (one category, no pairs): null in --json, n/a in the table.
    """
    name = "<stdin>" if file == "-" else file
    try:
        if file == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(file, "rb") as fh:
                raw = fh.read()
    except OSError as exc:
        _misuse(f"cannot read {name}: {exc.strerror or exc}")
    raw = _from_export(raw, dimension, name)
    try:
        frame = read_ratings_csv(raw)
        if frame.empty:
            _misuse(f"{name}: no ratings (expected rows of item,rater,value after the header)")
        summary = agreement_summary(
            frame,
            level=level,  # type: ignore[arg-type]
            categories=_split(categories),
            ci=ci,
            n_resamples=resamples,
            confidence=confidence,
            seed=seed,
        )
    except AgreementDataError as exc:
        _misuse(f"{name}: {exc}")
    if as_json:
        print_json(summary.to_dict())
    else:
        _print_table(summary, name)


def _from_export(raw: bytes, dimension: str | None, name: str) -> bytes:
    """A file from ``annotate export`` (item_id, rater, dimension, score, ...) as the
    ``item,rater,value`` rows of one dimension, its scores as the values; other files as
    they are. Dimensions without scores (free text) are not compared."""
    import io

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw  # read_ratings_csv names the line
    header = text.split("\n", 1)[0].strip().lower().split(",")
    if not {"item_id", "rater", "dimension", "score"} <= set(header):
        if dimension is not None:
            _misuse(f"{name}: --dimension needs a file written by `annotate export`")
        return raw
    rows = list(csv.DictReader(io.StringIO(text)))
    scored = list(dict.fromkeys(r["dimension"] for r in rows if r.get("score", "").strip()))
    if not scored:
        _misuse(f"{name}: no scored ratings (only free-text dimensions, or none at all)")
    chosen = dimension or scored[0]
    if chosen not in scored:
        _misuse(f"{name}: no scored ratings on dimension {chosen!r} (scored: {', '.join(scored)})")
    if dimension is None and len(scored) > 1:
        others = ", ".join(d for d in scored if d != chosen)
        click.echo(
            f"agreement on dimension {chosen!r} (also in the file: {others}; "
            "choose with --dimension)",
            err=True,
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item", "rater", "value"])
    for row in rows:
        if row["dimension"] == chosen and row["score"].strip():
            writer.writerow([row["item_id"], row["rater"], row["score"]])
    return out.getvalue().encode("utf-8")


def _split(categories: str | None) -> list[str] | None:
    if categories is None:
        return None
    return next(csv.reader([categories]))


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _print_table(summary: AgreementSummary, name: str) -> None:
    from rich.table import Table

    data = summary.to_dict()
    intervals = data.get("confidence_intervals", {})
    table = Table(title=f"Agreement in {name} ({summary.level} α)", title_justify="left")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    if intervals:
        table.add_column(f"{round(next(iter(intervals.values()))['confidence'] * 100)}% CI")
    for key, label in _LABELS.items():
        row = [label, _fmt(data[key])]
        if intervals:
            iv = intervals.get(key)
            row.append(f"{_fmt(iv['low'])} – {_fmt(iv['high'])}" if iv else "")
        table.add_row(*row)
    out = console()
    out.print(table)
    out.print(
        f"{summary.n_items} items ({summary.n_pairable_items} rated twice or more), "
        f"{summary.n_raters} raters, {summary.n_ratings} ratings; values read as "
        f"{data['values']}. n/a: undefined on these data.",
        highlight=False,
    )
