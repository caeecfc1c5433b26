"""Judge calibration: a model-graded scorer against the team's own human ratings.

``llmkit calibrate SUITE.yaml --scorer NAME`` runs the suite's judge on every conversation
people rated on the judge's rubric dimension in the annotation store
(:func:`llmkit.annotate.ratings`), and measures how well it agrees with them, per rubric
version the people rated under:

- **κ against the human consensus** of each item (the median point for likert scales, the
  unique most frequent value otherwise; an item whose raters tie has no consensus and is
  left out, and counted). The gate's κ is quadratic-weighted for likert scales (a 4 against
  a 5 is a near miss) and unweighted for the others; both are reported.
- **Krippendorff's α** with the judge as one more rater among the people (ordinal for
  likert, nominal otherwise), beside the people's own α: a judge can hardly beat the
  agreement the raters reach among themselves.
- A seeded bootstrap interval for each (items resampled), and a **confusion matrix**
  (rows: consensus, columns: judge).
- For a pairwise dimension, a **position-swap check**: every pair is judged in both orders,
  and the share of verdicts that survive the swap is reported.

Every statistic comes from :mod:`llmkit.annotate`'s public functions (no second copy). The
judge's calls are recorded into, and replayed from, ``cassettes/<suite>/calibrate-<scorer>/``
like any suite call, so CI re-checks a calibration offline.

The result is stored beside the suite, in ``<suite name>.calibration.json``, keyed by scorer
and stamped with the judge's fingerprint (rubric content, prompt, model, settings).
:func:`require_calibration` (``llmkit eval --require-calibration KAPPA``) refuses a judge
that has no calibration, whose fingerprint changed since, that humans never rated under its
current rubric version, or whose κ is below the bar.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit._exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from llmkit.annotate import Store
    from llmkit.evals._judge import Judge, JudgeVerdict
    from llmkit.evals._suite import ScorerSpec, Suite

__all__ = [
    "CALIBRATION_FORMAT",
    "Calibration",
    "CalibrationError",
    "CalibrationGroup",
    "calibrate",
    "calibration_path",
    "judge_specs",
    "load_calibrations",
    "require_calibration",
    "save_calibration",
]

CALIBRATION_FORMAT = "llmkit.eval.calibration/1"
JUDGE_RATER = "judge"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class CalibrationError(ConfigError):
    """A judge is not calibrated, or not well enough; or calibration cannot run."""


@dataclass(frozen=True)
class CalibrationGroup:
    """Agreement of the judge with people who rated under one rubric version.

    Attributes:
        rubric_version: the store's version number (``None``: all versions pooled).
        rubric_hash: that version's content hash (``None`` when pooled).
        current: whether the judge uses this very rubric version.
        n_items: items compared (rated by the judge and with a human consensus).
        n_ties: items left out because their raters had no consensus.
        n_raters: people who rated these items.
        kappa_kind: ``quadratic`` (likert) or ``unweighted``: which κ the gate uses.
        stats: statistic name -> ``{estimate, low, high}`` (None where undefined).
        confusion: ``{"labels": [...], "matrix": [[...]]}``, rows consensus, columns judge.
    """

    rubric_version: int | None
    rubric_hash: str | None
    current: bool
    n_items: int
    n_ties: int
    n_raters: int
    kappa_kind: str
    stats: dict[str, dict[str, float | None]]
    confusion: dict[str, Any]

    @property
    def kappa(self) -> float | None:
        return self.stats.get("kappa", {}).get("estimate")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rubric_version": self.rubric_version,
            "rubric_hash": self.rubric_hash,
            "current": self.current,
            "n_items": self.n_items,
            "n_ties": self.n_ties,
            "n_raters": self.n_raters,
            "kappa_kind": self.kappa_kind,
            "kappa": self.kappa,
            "stats": self.stats,
            "confusion": self.confusion,
        }


@dataclass(frozen=True)
class Calibration:
    """One judge's calibration against the annotation store.

    Attributes:
        suite: the suite's name.
        scorer: the judge scorer's name.
        judge: the judge's description (rubric, dimension, model, fingerprint).
        created: UTC time, ISO 8601.
        n_judged: items the judge rated.
        unreadable: item ids whose judge answer could not be read (left out).
        groups: one per rubric version, then all versions pooled.
        swap: the position-swap check (pairwise judges), else ``None``.
        ratings: item id -> the judge's rating (what the statistics used).
    """

    suite: str
    scorer: str
    judge: dict[str, Any]
    created: str
    n_judged: int
    unreadable: tuple[str, ...]
    groups: tuple[CalibrationGroup, ...]
    swap: dict[str, Any] | None = None
    ratings: dict[str, str | None] = field(default_factory=dict)

    @property
    def current(self) -> CalibrationGroup | None:
        """The group of the rubric version the judge uses now."""
        return next((g for g in self.groups if g.current), None)

    @property
    def kappa(self) -> float | None:
        """The judge's agreement with the raters (kappa) on the current rubric, if measured."""
        group = self.current
        return group.kappa if group is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The calibration as plain JSON-ready data (what the calibration file stores)."""
        return {
            "suite": self.suite,
            "scorer": self.scorer,
            "judge": self.judge,
            "created": self.created,
            "n_judged": self.n_judged,
            "unreadable": list(self.unreadable),
            "kappa": self.kappa,
            "groups": [g.to_dict() for g in self.groups],
            "swap": self.swap,
            "ratings": self.ratings,
        }

    def lines(self) -> list[str]:
        """A report for people."""
        j = self.judge
        out = [
            f"judge {self.scorer!r} ({j['rubric']}.{j['dimension']}, model {j['model'] or 'default'}): "
            f"{self.n_judged} items judged, {len(self.unreadable)} unreadable"
        ]
        for g in self.groups:
            name = "all versions" if g.rubric_version is None else f"rubric v{g.rubric_version}"
            mark = " (current)" if g.current else ""
            out.append(
                f"{name}{mark}: {g.n_items} items, {g.n_raters} raters, {g.n_ties} without consensus"
            )
            for stat in ("kappa", "cohen_kappa", "krippendorff_alpha", "human_alpha", "agreement"):
                s = g.stats.get(stat)
                if s is not None:
                    out.append(f"  {_stat_label(stat, g.kappa_kind)}: {_fmt(s)}")
            if g.confusion["labels"]:
                out += ["  " + row for row in _confusion_lines(g.confusion)]
        if self.swap is not None:
            out.append(
                f"position swap: {self.swap['consistent']}/{self.swap['n']} verdicts survive "
                f"the swap ({_num(self.swap['rate'])})"
            )
        return out


def _stat_label(stat: str, kind: str) -> str:
    return {
        "kappa": f"kappa ({kind}, the gate's)",
        "cohen_kappa": "Cohen's kappa (unweighted)",
        "krippendorff_alpha": "Krippendorff's alpha, judge among the raters",
        "human_alpha": "Krippendorff's alpha, raters only",
        "agreement": "exact agreement with the consensus",
    }[stat]


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _fmt(s: dict[str, float | None]) -> str:
    return f"{_num(s.get('estimate'))} [{_num(s.get('low'))}, {_num(s.get('high'))}]"


def _confusion_lines(confusion: dict[str, Any]) -> list[str]:
    labels = [str(x) for x in confusion["labels"]]
    width = max(8, *(len(x) for x in labels))
    head = "consensus \\ judge".ljust(18) + "".join(x.rjust(width) for x in labels)
    rows = [head]
    for label, counts in zip(labels, confusion["matrix"], strict=True):
        rows.append(label.ljust(18) + "".join(str(c).rjust(width) for c in counts))
    return rows


# --- which scorers are judges ------------------------------------------------------------------
def judge_specs(suite: Suite) -> list[ScorerSpec]:
    """The suite's ``type: judge`` scorers (suite-wide and per case), one per name."""
    seen: dict[str, ScorerSpec] = {}
    for spec in [*suite.scorers, *(s for c in suite.cases for s in c.scorers)]:
        if spec.type == "judge" and spec.name not in seen:
            seen[spec.name] = spec
    return list(seen.values())


def _judge_spec(suite: Suite, scorer: str) -> ScorerSpec:
    specs = {s.name: s for s in [*suite.scorers, *(s for c in suite.cases for s in c.scorers)]}
    spec = specs.get(scorer)
    if spec is None:
        raise CalibrationError(
            f"{suite.path}: no scorer named {scorer!r} (judges: "
            f"{', '.join(s.name for s in judge_specs(suite)) or 'none'})"
        )
    if spec.type != "judge":
        raise CalibrationError(f"{suite.path}: scorer {scorer!r} is {spec.type!r}, not a judge")
    return spec


# --- items from the store ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Item:
    id: str
    question: str
    answer: str
    answer_b: str | None


def _item(store: Store, item_id: str, pairwise: bool) -> _Item | None:
    conv = store.conversation(item_id)
    messages = list(conv.messages)
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    if pairwise:
        a, b = conv.metadata.get("answer_a"), conv.metadata.get("answer_b")
        if not isinstance(a, str) or not isinstance(b, str):
            return None
        before = messages if last is None else messages[:last]
        return _Item(item_id, _transcript(before), a, b)
    if last is None:
        return None
    return _Item(
        item_id, _transcript(messages[:last]), str(messages[last].get("content") or ""), None
    )


def _transcript(messages: Sequence[dict[str, Any]]) -> str:
    turns = [m for m in messages if m.get("role") in ("user", "assistant", "system")]
    if len(turns) == 1 or (len(turns) == 2 and turns[0].get("role") == "system"):
        return str(turns[-1].get("content") or "")  # one question: no role labels needed
    return "\n".join(f"{m['role']}: {m.get('content') or ''}" for m in turns)


def _cassette_name(scorer: str, item_id: str) -> str:
    safe = _SAFE.sub("_", item_id)
    if safe != item_id or not safe[:1].isalnum():
        safe = (
            f"{safe.strip('_.-')[:40] or 'item'}-{hashlib.sha256(item_id.encode()).hexdigest()[:8]}"
        )
    return f"calibrate-{_SAFE.sub('_', scorer)}/{safe}"


# --- consensus and statistics ------------------------------------------------------------------
def _consensus(values: Sequence[str], likert: bool) -> str | None:
    """The median point (likert) or unique mode of one item's human ratings; None on a tie."""
    if likert:
        points = sorted(int(v) for v in values)
        n = len(points)
        mid = points[n // 2] if n % 2 else (points[n // 2 - 1] + points[n // 2]) / 2
        return str(int(mid)) if float(mid).is_integer() else None
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    top = max(counts.values())
    winners = [v for v, c in counts.items() if c == top]
    return winners[0] if len(winners) == 1 else None


def _interval(summary: Any, name: str) -> dict[str, float | None]:
    def clean(x: Any) -> float | None:
        return None if x is None or not math.isfinite(float(x)) else float(x)

    iv = summary.intervals.get(name)
    return {
        "estimate": clean(getattr(summary, name)),
        "low": clean(iv.low) if iv is not None else None,
        "high": clean(iv.high) if iv is not None else None,
    }


def _group(
    frame: pd.DataFrame,
    judge: Judge,
    ratings: dict[str, str | None],
    *,
    version: int | None,
    content_hash: str | None,
    n_resamples: int,
    seed: int,
) -> CalibrationGroup:
    import pandas as pd

    from llmkit.annotate import AgreementSummary, agreement_summary

    likert = judge.dim.scale.type == "likert"
    labels: list[Any] = [int(v) for v in judge.values] if likert else list(judge.values)
    pairs: list[tuple[str, str, str]] = []  # (item, consensus, judge)
    ties = 0
    people: list[dict[str, Any]] = []
    for item_id, rows in frame.groupby("item_id", sort=True):
        verdict = ratings.get(str(item_id))
        if verdict is None:
            continue
        values = [str(v) for v in rows["value"]]
        people += [
            {"item": str(item_id), "rater": str(r), "value": str(v)}
            for r, v in zip(rows["rater"], values, strict=True)
        ]
        consensus = _consensus(values, likert)
        if consensus is None:
            ties += 1
            continue
        pairs.append((str(item_id), consensus, verdict))
    kind = "quadratic" if likert else "unweighted"
    stats: dict[str, dict[str, float | None]] = {}

    def summary(ratings_frame: pd.DataFrame) -> AgreementSummary:
        return agreement_summary(
            ratings_frame,
            level="ordinal" if likert else "nominal",
            categories=labels,
            ci=True,
            n_resamples=n_resamples,
            seed=seed,
        )

    if pairs:
        two = pd.DataFrame(
            [{"item": i, "rater": "consensus", "value": c} for i, c, _ in pairs]
            + [{"item": i, "rater": JUDGE_RATER, "value": j} for i, _, j in pairs]
        )
        s = summary(two)
        stats["kappa"] = _interval(s, "cohen_kappa_quadratic" if likert else "cohen_kappa")
        stats["cohen_kappa"] = _interval(s, "cohen_kappa")
        stats["agreement"] = _interval(s, "percent_agreement")
    if people:
        humans = pd.DataFrame(people)
        judged = pd.DataFrame(
            [
                {"item": i, "rater": JUDGE_RATER, "value": ratings[i]}
                for i in sorted(set(humans["item"]))
            ]
        )
        with_judge = summary(pd.concat([humans, judged], ignore_index=True))
        stats["krippendorff_alpha"] = _interval(with_judge, "krippendorff_alpha")
        stats["human_alpha"] = _interval(summary(humans), "krippendorff_alpha")
    index = {str(v): k for k, v in enumerate(judge.values)}
    matrix = [[0] * len(index) for _ in index]
    for _, consensus, verdict in pairs:
        matrix[index[consensus]][index[verdict]] += 1
    return CalibrationGroup(
        rubric_version=version,
        rubric_hash=content_hash,
        current=content_hash == judge.rubric.content_hash,
        n_items=len(pairs),
        n_ties=ties,
        n_raters=int(frame["rater"].nunique()),
        kappa_kind=kind,
        stats=stats,
        confusion={"labels": list(judge.values), "matrix": matrix},
    )


def _newest(frame: pd.DataFrame) -> pd.DataFrame:
    """Each rater's newest submission per item (a re-rating replaces the older one)."""
    return frame.sort_values("submission_id").groupby(["item_id", "rater"]).tail(1)


# --- running -----------------------------------------------------------------------------------
def calibrate(
    suite: Suite,
    scorer: str,
    *,
    db: str | Path | Store | None = None,
    mode: str = "replay",
    base_url: str | None = None,
    api_key: str | None = None,
    limit: int | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Run the judge ``scorer`` of ``suite`` on the human-rated items and measure agreement.

    Args:
        suite: the suite holding the judge.
        scorer: the judge scorer's name.
        db: the annotation store (URL, SQLite path or Store; default ``$LLMKIT_HOME``'s).
        mode: ``replay`` (cassettes, no network), ``record`` or ``live``.
        base_url, api_key: the judge's endpoint for record/live (the key is never written).
        limit: judge only the first ``limit`` items (sorted by id).
        n_resamples, seed: of the bootstrap intervals.
        progress: called with each item id once judged.

    Raises:
        CalibrationError: no such judge, or no human ratings of its dimension.
        CassetteError: replay without a recording of an item's judge call.
    """
    from llmkit.annotate import open_store
    from llmkit.evals._judge import judge_from_spec
    from llmkit.evals._runner import cassette_client

    spec = _judge_spec(suite, scorer)
    judge = judge_from_spec(spec, suite)
    store = open_store(db)
    try:
        frame = store.ratings_frame(latest=False)
        frame = frame[
            (frame["rubric"] == judge.rubric.name) & (frame["dimension"] == judge.dimension)
        ]
        frame = frame[frame["value"].notna() & (frame["value"] != "")]
        if frame.empty:
            raise CalibrationError(
                f"the annotation store {store!r} holds no human ratings of "
                f"{judge.rubric.name}.{judge.dimension}: rate some items first (llmkit annotate)"
            )
        item_ids = sorted(str(i) for i in frame["item_id"].unique())
        if limit is not None:
            item_ids = item_ids[:limit]
            frame = frame[frame["item_id"].isin(item_ids)]
        items = [_item(store, i, judge.pairwise) for i in item_ids]
        hashes = {
            int(v): store.rubric_version(int(rid)).content_hash
            for v, rid in frame[["rubric_version", "rubric_id"]]
            .drop_duplicates()
            .itertuples(index=False)
        }
    finally:
        if store is not db:
            store.close()
    ratings: dict[str, str | None] = {}
    unreadable: list[str] = []
    swaps: list[bool] = []
    for item in items:
        if item is None:
            continue
        with cassette_client(
            suite, _cassette_name(scorer, item.id), mode, base_url=base_url, api_key=api_key
        ) as client:
            verdict: JudgeVerdict
            if judge.pairwise:
                assert item.answer_b is not None
                first, _, consistent = judge.compare_swapped(
                    client, item.question, item.answer, item.answer_b
                )
                swaps.append(consistent)
                verdict = first
            else:
                verdict = judge.grade(client, item.question, item.answer)
        ratings[item.id] = verdict.rating
        if verdict.rating is None:
            unreadable.append(item.id)
        if progress is not None:
            progress(item.id)
    frame = frame[frame["item_id"].isin(list(ratings))]
    groups = [
        _group(
            _newest(part),
            judge,
            ratings,
            version=int(str(version)),
            content_hash=hashes.get(int(str(version))),
            n_resamples=n_resamples,
            seed=seed,
        )
        for version, part in frame.groupby("rubric_version", sort=True)
    ]
    if len(groups) > 1:
        groups.append(
            _group(
                _newest(frame),
                judge,
                ratings,
                version=None,
                content_hash=None,
                n_resamples=n_resamples,
                seed=seed,
            )
        )
    swap = None
    if judge.pairwise:
        n = len(swaps)
        swap = {"n": n, "consistent": sum(swaps), "rate": (sum(swaps) / n) if n else None}
    return Calibration(
        suite=suite.name,
        scorer=scorer,
        judge=judge.describe(),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        n_judged=len(ratings),
        unreadable=tuple(unreadable),
        groups=tuple(groups),
        swap=swap,
        ratings=ratings,
    )


# --- storing and gating -----------------------------------------------------------------------
def calibration_path(suite: Suite) -> Path:
    """Where a suite's judge calibrations live: beside the suite file."""
    return suite.path.parent / f"{suite.name}.calibration.json"


def load_calibrations(suite: Suite) -> dict[str, Any]:
    """Scorer name -> stored calibration (``{}`` when there is no file).

    Raises:
        CalibrationError: the file exists but is not a calibration file.
    """
    path = calibration_path(suite)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"{path}: unreadable calibration file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != CALIBRATION_FORMAT:
        raise CalibrationError(f"{path}: not a calibration file (format {CALIBRATION_FORMAT})")
    scorers = data.get("scorers")
    if not isinstance(scorers, dict):
        raise CalibrationError(f"{path}: 'scorers' must be an object")
    return scorers


def save_calibration(calibration: Calibration, suite: Suite) -> Path:
    """Store ``calibration`` in the suite's calibration file (other judges' entries kept)."""
    path = calibration_path(suite)
    scorers = load_calibrations(suite)
    scorers[calibration.scorer] = calibration.to_dict()
    data = {"format": CALIBRATION_FORMAT, "suite": suite.name, "scorers": scorers}
    text = json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def require_calibration(suite: Suite, min_kappa: float) -> None:
    """Refuse the suite's judges unless each is calibrated with κ ≥ ``min_kappa``.

    Raises:
        CalibrationError: the suite has no judge; a judge has no calibration, or one made
            for another rubric, prompt or model; people never rated under its current
            rubric version; or its κ is undefined or below ``min_kappa``.
    """
    from llmkit.evals._judge import judge_from_spec

    if not -1.0 <= min_kappa <= 1.0:
        raise CalibrationError(f"--require-calibration: kappa must lie in [-1, 1], not {min_kappa}")
    specs = judge_specs(suite)
    if not specs:
        raise CalibrationError(
            f"{suite.path}: --require-calibration, but the suite has no judge scorer"
        )
    stored = load_calibrations(suite)
    path = calibration_path(suite)
    for spec in specs:
        how = f"run: llmkit calibrate {suite.path} --scorer {spec.name}"
        entry = stored.get(spec.name)
        if not isinstance(entry, dict):
            raise CalibrationError(
                f"judge {spec.name!r} is not calibrated (no entry in {path}); {how}"
            )
        judge = judge_from_spec(spec, suite)
        if (entry.get("judge") or {}).get("fingerprint") != judge.fingerprint():
            raise CalibrationError(
                f"judge {spec.name!r} changed since its calibration (rubric, prompt or model); {how}"
            )
        current = next((g for g in entry.get("groups") or [] if g.get("current")), None)
        if current is None:
            raise CalibrationError(
                f"judge {spec.name!r}: nobody rated {judge.rubric.name}.{judge.dimension} under "
                f"its current rubric version; collect ratings, then {how}"
            )
        kappa = current.get("kappa")
        s = (current.get("stats") or {}).get("kappa") or {}
        if kappa is None or kappa < min_kappa:
            raise CalibrationError(
                f"judge {spec.name!r} is poorly calibrated: {current.get('kappa_kind')} kappa "
                f"{_fmt(s)} over {current.get('n_items')} items < required {min_kappa:g}"
            )
