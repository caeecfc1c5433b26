"""The admin page's data and actions: import, sample, assign, accounts, metrics, reports.

Actions return the line the page shows; a refused one raises :class:`AnnotationError`
with a message written for the admin (never a raw Python error).
"""

from __future__ import annotations

import math
from typing import Any

from llmkit.annotate import AnnotationError, Store, User
from llmkit.annotate._accounts import (
    clear_login_failures,
    revoke_sessions,
    set_active,
    set_password,
    set_role,
)
from llmkit.annotate._agreement_core import Level
from llmkit.annotate._csv_safe import csv_safe
from llmkit.annotate._web._view import rows_of

__all__ = [
    "do_assign",
    "do_import",
    "do_sample",
    "do_user",
    "overview",
    "queue_overview",
    "report_file",
]


def _number(form: dict[str, Any], key: str, label: str, default: str, kind: type = int) -> Any:
    """A form field as a number, or an error that names the field and what it holds."""
    text = str(form.get(key, "")).strip() or default
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise AnnotationError(f"{label}: give {what}, not {text[:40]!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise AnnotationError(f"{label}: give a finite number, not {text[:40]!r}")
    return value


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def agreement_rows(store: Store, frame: Any) -> list[dict[str, Any]]:
    """Agreement per dimension over the items at least two raters rated, as display rows.

    Each dimension at its rubric's level (ordinal for Likert points, nominal otherwise),
    with a bootstrap interval, through :func:`agreement_summary` (the code behind
    ``llmkit annotate agreement``); comments have no agreement.
    """
    from llmkit.annotate import agreement_summary

    rows: list[dict[str, Any]] = []
    for (rubric_id, key), group in frame.groupby(["rubric_id", "dimension"], sort=True):
        dim = store.rubric_version(int(rubric_id)).rubric.dimension(str(key))
        if dim.scale.type == "comment":
            continue
        raters = group.groupby("item_id")["rater"].nunique()
        shared = group[group["item_id"].isin(raters[raters >= 2].index)]
        if shared.empty:
            continue
        level: Level = "ordinal" if dim.scale.type == "likert" else "nominal"
        s = agreement_summary(
            shared.rename(columns={"item_id": "item"}), level=level, ci=True, n_resamples=200
        )
        alpha = s.intervals.get("krippendorff_alpha")
        rows.append(
            {
                "dimension": str(key),
                "level": level,
                "n_items": s.n_items,
                "alpha": _num(s.krippendorff_alpha),
                "low": _num(alpha.low if alpha else None),
                "high": _num(alpha.high if alpha else None),
                "percent": _num(s.percent_agreement),
            }
        )
    return rows


def queue_overview(store: Store) -> list[dict[str, Any]]:
    """Every rater's queue (as each rater sees it), one row per assignment, with whether the
    item is disputed (its raters disagree and no final label settles it)."""
    from llmkit.annotate import adjudication_queue
    from llmkit.annotate._web_store import queue_slots

    disputed = {d.item_id for d in adjudication_queue(store)}
    rows: list[dict[str, Any]] = []
    for rater in store.users():
        for slot in queue_slots(store, rater.name, rater_id=rater.id):
            rows.append(
                {
                    "rater": rater.name,
                    "day": slot.day,
                    "item_id": slot.item_id,
                    "status": slot.status,
                    "skip_reason": slot.skip_reason or "",
                    "disputed": slot.item_id in disputed,
                }
            )
    return rows


def overview(store: Store) -> dict[str, Any]:
    """Counts, users, and the latest day's metrics and agreement, as display strings."""
    from llmkit.annotate import daily_metrics

    metrics = rows_of(daily_metrics(store, days=1, n_resamples=200))
    frame = store.ratings_frame(include_gold=False)
    agreement: list[dict[str, Any]] = []
    day = metrics[0]["day"] if metrics else ""
    if not frame.empty:
        today = frame[frame["rated_at"].dt.strftime("%Y-%m-%d") == day] if day else frame
        agreement = agreement_rows(store, today)
    return {
        "counts": {w: store.count(w) for w in ("items", "users", "submissions", "ratings")},
        "users": store.users(),
        "day": day,
        "metrics": [
            {
                "metric": m["metric"],
                "dimension": m["dimension"],
                "estimate": _num(m["estimate"]),
                "low": _num(m["low"]),
                "high": _num(m["high"]),
                "n_items": m["n_items"],
            }
            for m in metrics
        ],
        "agreement": agreement,
    }


def do_import(store: Store, form: dict[str, Any], user: User) -> str:
    from llmkit.annotate import import_jsonl

    data = form.get("file")
    if not isinstance(data, bytes) or not data:
        return "Refused: choose a JSONL file to import."
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        return "Refused: the file is not UTF-8 text."
    result = import_jsonl(store, lines, redact=bool(form.get("redact")), name="upload.jsonl")
    return f"Imported {result.imported} conversations ({result.redacted} redactions)."


def do_sample(store: Store, form: dict[str, Any], user: User) -> str:
    from llmkit.annotate import sample

    n = _number(form, "n", "Conversations", "0")
    drawn = sample(
        store,
        n,
        day=str(form.get("day", "")).strip() or None,
        stratify_by=str(form.get("stratify_by", "")).strip() or None,
    )
    return f"Sampled {len(drawn.item_ids)} conversations for {drawn.day}."


def do_assign(store: Store, form: dict[str, Any], user: User) -> str:
    from llmkit.annotate import assign

    raters = [r.strip() for r in str(form.get("raters", "")).split(",") if r.strip()]
    done = assign(
        store,
        raters,
        overlap=_number(form, "overlap", "Overlap share", "0.2", float),
        raters_per_item=_number(form, "raters_per_item", "Raters per overlap item", "2"),
        gold_per_rater=_number(form, "gold_per_rater", "Gold per rater", "0"),
    )
    queues = ", ".join(f"{k}: {v}" for k, v in done.per_rater.items())
    return f"Assigned sample {done.sample_id} ({done.rubric}): {queues}; {done.overlap_items} overlap, {done.gold_items} gold."


USER_ACTIONS = ("deactivate", "reactivate", "password", "role", "revoke", "unlock")


def do_user(store: Store, form: dict[str, Any], user: User) -> str:
    """One account change: deactivate, reactivate, password, role, revoke (sessions), unlock."""
    name = str(form.get("name", "")).strip()
    action = str(form.get("action", ""))
    target = store.user(name).name  # refuses unknown names
    if action not in USER_ACTIONS:
        raise AnnotationError(f"unknown account action {action[:40]!r}")
    if target == user.name and action in ("deactivate", "role"):
        raise AnnotationError("an admin cannot deactivate or demote themselves here")
    if action in ("deactivate", "reactivate"):
        set_active(store, target, action == "reactivate")
        return f"{target} is {'active' if action == 'reactivate' else 'deactivated; logged out'}."
    if action == "password":
        set_password(store, target, str(form.get("password", "")))
        return f"New password set for {target}; their sessions ended."
    if action == "role":
        role = str(form.get("role", ""))
        set_role(store, target, role)
        return f"{target} is now {role}."
    if action == "revoke":
        return f"Ended {revoke_sessions(store, target)} sessions of {target}."
    clear_login_failures(store, target)
    return f"Login lockout lifted for {target}."


def report_file(store: Store, what: str) -> tuple[bytes, str]:
    """One of part 1's reports: ``ratings.csv``, ``raters.csv``, ``metrics.csv``, ``trend.png``.

    Raises:
        LookupError: no such report.
        AnnotationError: the report cannot be made (e.g. matplotlib missing, no data).
    """
    from llmkit.annotate import daily_metrics, plot_trend, rater_report

    if what == "ratings.csv":
        return csv_safe(store.ratings_frame()).to_csv(index=False).encode(), "text/csv"
    if what == "raters.csv":
        return csv_safe(rater_report(store)).to_csv(index=False).encode(), "text/csv"
    if what == "metrics.csv":
        return daily_metrics(store, n_resamples=200).to_csv(index=False).encode(), "text/csv"
    if what == "trend.png":
        import tempfile
        from pathlib import Path

        metrics = daily_metrics(store, n_resamples=200)
        if metrics.empty:
            raise AnnotationError("no ratings yet: nothing to plot")
        with tempfile.TemporaryDirectory() as tmp:
            path = plot_trend(metrics, Path(tmp) / "trend.png")
            return path.read_bytes(), "image/png"
    raise LookupError(what)
