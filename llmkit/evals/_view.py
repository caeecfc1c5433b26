"""``llmkit eval view RESULTS -o report.html``: one static HTML file to look at a run.

The page holds the matrix (or the one run) as a table, the baseline comparison, and every
case: its status, score, latency and cost per column, the scorers that failed and why,
and its output beside the baseline's with a line diff. Filters by status and by tag are
radio buttons read by CSS (``:has``), so the file needs no script at all: a
Content-Security-Policy ``<meta>`` forbids every script and every fetch, it loads nothing
from anywhere (no CDN, no font, no image) and it works from ``file://``. Each case is a
closed ``<details>`` with ``content-visibility: auto``, so 1,000 cases stay quick to open
and scroll (``benchmarks/eval_view.py`` times it).

The baseline of a single run is the summary given with ``--baseline`` (a summary written
by this version holds each case's outputs); in a matrix it is the first column (or ``A``
of ``--compare A B``).
"""

from __future__ import annotations

import difflib
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit._exceptions import ConfigError
from llmkit._jsonl import json_lines

__all__ = ["ReportColumn", "load_report_columns", "render_report", "write_report"]

MAX_OUTPUT_CHARS = 20_000  # an answer beyond this is cut in the page (and says so)
MAX_TAG_FILTERS = 100
_STATUSES = ("pass", "fail", "error")


@dataclass
class ReportColumn:
    """One column of the report: a run's summary and, per case, its records' details."""

    name: str
    summary: dict[str, Any]
    timing: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (write results with llmkit eval -o DIR)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None


def _column(name: str, folder: Path, summary: Any) -> ReportColumn:
    if not isinstance(summary, dict) or not isinstance(summary.get("per_case"), dict):
        raise ConfigError(f"{folder}: not an eval summary (no per_case)")
    col = ReportColumn(name, summary)
    results = folder / "results.jsonl"
    if results.exists():
        for _, rec in json_lines(results.read_text(encoding="utf-8").splitlines(), results):
            case = str(rec.get("case"))
            if isinstance(rec.get("timing"), dict) and case not in col.timing:
                col.timing[case] = rec["timing"]
            if not rec.get("passed"):
                why = rec.get("error") or rec.get("detail") or ""
                col.failures.setdefault(case, []).append(
                    f"{rec.get('scorer')}[{rec.get('repeat')}]: {why}"
                )
    return col


def load_report_columns(folder: str | Path) -> tuple[list[ReportColumn], dict[str, Any] | None]:
    """The columns of a results folder (``-o DIR`` of eval, merge or a matrix) and, for a
    matrix, its ``matrix.json``.

    Raises:
        ConfigError: not a results folder, or a file in it is malformed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder (give the -o DIR of llmkit eval)")
    matrix_file = folder / "matrix.json"
    if matrix_file.exists():
        doc = _read_json(matrix_file)
        if not isinstance(doc, dict) or not isinstance(doc.get("columns"), list):
            raise ConfigError(f"{matrix_file}: not a matrix document")
        columns = []
        for col in doc["columns"]:
            sub = folder / str(col.get("slug", ""))
            columns.append(_column(str(col["name"]), sub, _read_json(sub / "summary.json")))
        return columns, doc
    summary = _read_json(folder / "summary.json")
    return [_column(str(summary.get("suite", "run")), folder, summary)], None


# --- rendering -----------------------------------------------------------------------------
_CSS = """
:root { --pass: #1a7f37; --fail: #cf222e; --error: #9a6700; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1400px; padding: 16px 24px; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 4px 0 8px; } h2 { font-size: 17px; margin: 22px 0 8px; }
.meta { color: var(--muted); margin-bottom: 12px; }
table.grid { border-collapse: collapse; margin: 6px 0 12px; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 4px 10px; text-align: right; }
table.grid th:first-child, table.grid td:first-child { text-align: left; }
table.grid th { background: #f6f8fa; }
.regressed { color: var(--fail); font-weight: 600; }
.filters { position: sticky; top: 0; background: #fff; padding: 8px 0; z-index: 2;
           border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 6px 18px; }
.filters fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px; }
.filters legend { float: left; font-weight: 600; margin-right: 6px; padding-top: 3px; }
.filters input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.filters label { border: 1px solid var(--line); border-radius: 12px; padding: 2px 10px;
                 cursor: pointer; user-select: none; }
.filters input:checked + label { background: #0969da; border-color: #0969da; color: #fff; }
.filters input:focus-visible + label { outline: 2px solid #0969da; outline-offset: 2px; }
.case { border-bottom: 1px solid var(--line); content-visibility: auto;
        contain-intrinsic-size: auto 34px; }
.row { display: grid; gap: 8px; padding: 6px 4px; align-items: center;
       grid-template-columns: minmax(180px, 2fr) repeat(var(--cols), minmax(150px, 1fr)) minmax(120px, 1fr); }
.case > summary { cursor: pointer; }
.head { font-weight: 600; border-bottom: 2px solid var(--line); }
.case > summary:hover { background: #f6f8fa; }
.case[open] > summary { background: #eef4fb; }
.cell { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.badge { display: inline-block; min-width: 42px; text-align: center; border-radius: 4px;
         color: #fff; font-size: 12px; padding: 0 6px; margin-right: 6px; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.badge.error { background: var(--error); } .badge.none { background: #8c959f; }
.tag { display: inline-block; background: #ddf4ff; color: #0550ae; border-radius: 10px;
       padding: 0 7px; margin: 0 3px 0 0; font-size: 12px; }
.body { padding: 6px 8px 14px; }
.why { color: var(--fail); margin: 4px 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pair h4, .diff h4 { margin: 6px 0 2px; font-size: 13px; color: var(--muted); }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: 8px;
      margin: 0; overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-word;
      font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.diff .add { background: #dafbe1; display: block; } pre.diff .del { background: #ffebe9; display: block; }
pre.diff .hunk { color: var(--muted); display: block; } pre.diff .ctx { display: block; }
.same { color: var(--muted); font-style: italic; }
.empty-note { color: var(--muted); padding: 12px 0; display: none; }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _status(entry: Mapping[str, Any] | None) -> str:
    if entry is None:
        return "none"
    if entry.get("error"):
        return "error"
    return "pass" if entry.get("passed") else "fail"


def _mean_score(entry: Mapping[str, Any] | None) -> float | None:
    scores = [s.get("score") for s in ((entry or {}).get("scores") or {}).values()]
    nums = [float(s) for s in scores if isinstance(s, int | float)]
    return sum(nums) / len(nums) if nums else None


def _output(entry: Mapping[str, Any] | None) -> str | None:
    outputs = (entry or {}).get("outputs")
    if not isinstance(outputs, list) or not outputs:
        return None
    text = str(outputs[0])
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + f"\n… ({len(text) - MAX_OUTPUT_CHARS} more characters)"
    return text


def _diff(before: str, after: str) -> str:
    lines = list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "baseline", "output", n=2, lineterm=""
        )
    )
    if not lines:
        return '<p class="same">same as the baseline</p>'
    out = []
    for line in lines[2:]:
        kind = "hunk" if line.startswith("@@") else {"+": "add", "-": "del"}.get(line[:1], "ctx")
        out.append(f'<span class="{kind}">{_e(line)}</span>')
    return '<pre class="diff">' + "".join(out) + "</pre>"


def _fmt(value: Any, spec: str, unit: str = "") -> str:
    return "" if value is None else f"{format(value, spec)}{unit}"


def _column_stats(col: ReportColumn) -> dict[str, Any]:
    """Mean score, p50/p95 recorded E2E and tokens of a column (as the matrix table has)."""
    from llmkit.stats import percentiles

    means = [m for e in col.summary["per_case"].values() if (m := _mean_score(e)) is not None]
    e2e = [
        float(t["e2e_ms"])
        for t in col.timing.values()
        if isinstance(t.get("e2e_ms"), int | float) and t.get("calls")
    ]
    p50, p95 = percentiles(e2e, [50, 95]) if e2e else (None, None)
    return {
        "mean_score": sum(means) / len(means) if means else None,
        "p50_ms": p50,
        "p95_ms": p95,
        "tokens": sum(int(t.get("total_tokens") or 0) for t in col.timing.values()),
    }


def _stats_table(columns: Sequence[ReportColumn]) -> str:
    rows = []
    for col in columns:
        s = col.summary
        stats = _column_stats(col)
        cost = (s.get("cost") or {}).get("usd")
        rows.append(
            f"<tr><td>{_e(col.name)}</td><td>{s.get('passed_cases', '')}/{s.get('cases', '')}</td>"
            f"<td>{_fmt(s.get('pass_rate'), '.1%')}</td>"
            f"<td>{_fmt(stats['mean_score'], '.3f')}</td><td>{_fmt(stats['p50_ms'], '.0f')}</td>"
            f"<td>{_fmt(stats['p95_ms'], '.0f')}</td><td>{_e(stats['tokens'])}</td>"
            f"<td>{'unknown' if cost is None else f'${cost:.6f}'}</td>"
            f"<td>{_e(s.get('exit_code', ''))}</td></tr>"
        )
    head = (
        "<tr><th>column</th><th>passed</th><th>pass rate</th><th>mean score</th><th>p50 ms</th>"
        "<th>p95 ms</th><th>tokens</th><th>cost</th><th>exit</th></tr>"
    )
    return f'<table class="grid" id="matrix">{head}{"".join(rows)}</table>'


def _comparison(comparison: Mapping[str, Any] | None, title: str) -> str:
    if not comparison:
        return ""
    rows = []
    for m in comparison.get("metrics", []):
        cls = ' class="regressed"' if m.get("regressed") else ""
        p = m.get("pvalue")
        rows.append(
            f"<tr{cls}><td>{_e(m.get('metric'))}</td><td>{_fmt(m.get('before'), '.3f')}</td>"
            f"<td>{_fmt(m.get('after'), '.3f')}</td><td>{_fmt(m.get('change'), '+.3f')}</td>"
            f"<td>{'' if p is None else f'{p:.3g}'}</td><td>{m.get('lost', '')}/{m.get('gained', '')}</td>"
            f"<td>{'REGRESSION' if m.get('regressed') else 'ok'}</td></tr>"
        )
    verdict = "regression" if comparison.get("regressed") else "no regression"
    return (
        f"<h2>{_e(title)}: {verdict}</h2>"
        '<table class="grid" id="comparison"><tr><th>metric</th><th>before</th><th>after</th>'
        "<th>change</th><th>McNemar p</th><th>lost/gained</th><th>verdict</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def render_report(
    columns: Sequence[ReportColumn],
    baseline: Mapping[str, Any] | None = None,
    matrix: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> str:
    """The report as one HTML document (no script, nothing fetched).

    Args:
        columns: from :func:`load_report_columns`.
        baseline: a summary whose ``per_case`` outputs the first column is diffed against
            (default in a matrix: the first column, against which the others are diffed).
        matrix: the ``matrix.json`` document, when the results are a matrix's.
        title: the page title (default: the suite's name).
    """
    if not columns:
        raise ConfigError("nothing to report: no columns")
    first = columns[0].summary
    suite = str(first.get("suite", ""))
    title = title or f"llmkit eval: {suite}"
    base_cases: Mapping[str, Any] = (baseline or {}).get("per_case") or {}
    base_name = "baseline"
    compare = (matrix or {}).get("compare")
    if baseline is None and len(columns) > 1:
        ref = next((c for c in columns if compare and c.name == compare[0]), columns[0])
        base_cases, base_name = ref.summary["per_case"], ref.name
    case_ids: list[str] = []
    seen: set[str] = set()
    for col in columns:
        for cid in col.summary["per_case"]:
            if cid not in seen:
                seen.add(cid)
                case_ids.append(cid)
    tag_count: dict[str, int] = {}  # cases carrying each tag (in any column)
    for cid in case_ids:
        tagged = {
            str(t)
            for col in columns
            for t in (col.summary["per_case"].get(cid) or {}).get("tags") or ()
        }
        for tag in tagged:
            tag_count[tag] = tag_count.get(tag, 0) + 1
    tags = sorted(tag_count, key=lambda t: (-tag_count[t], t))[:MAX_TAG_FILTERS]
    tag_index = {t: i for i, t in enumerate(tags)}
    status_count = dict.fromkeys(_STATUSES, 0)
    items = []
    for cid in case_ids:
        entries = [col.summary["per_case"].get(cid) for col in columns]
        statuses = [_status(e) for e in entries]
        overall = "error" if "error" in statuses else ("fail" if "fail" in statuses else "pass")
        status_count[overall] += 1
        case_tags = sorted({str(t) for e in entries if e for t in e.get("tags") or ()})
        classes = " ".join(
            [f"case s-{overall}", *(f"t-{tag_index[t]}" for t in case_tags if t in tag_index)]
        )
        cells = []
        for col, entry, status in zip(columns, entries, statuses, strict=True):
            timing = col.timing.get(cid, {})
            cost = (entry or {}).get("cost_usd")
            cells.append(
                f'<span class="cell"><span class="badge {status}">{status}</span>'
                f"{_fmt(_mean_score(entry), '.2f')} · {_fmt(timing.get('e2e_ms'), '.0f', ' ms')}"
                f"{'' if cost is None else f' · ${cost:.5f}'}</span>"
            )
        body = []
        base_out = _output(base_cases.get(cid))
        for col, entry in zip(columns, entries, strict=True):
            why = col.failures.get(cid, [])
            label = f"{col.name}: " if len(columns) > 1 else ""
            body += [f'<div class="why">{_e(label + w)}</div>' for w in why[:20]]
            out = _output(entry)
            if out is None:
                continue
            is_ref = len(columns) > 1 and baseline is None and col.name == base_name
            pair = [f"<div><h4>{_e(col.name)} output</h4><pre>{_e(out)}</pre></div>"]
            if base_out is not None and not is_ref:
                pair.append(f"<div><h4>{_e(base_name)}</h4><pre>{_e(base_out)}</pre></div>")
            body.append(f'<div class="pair">{"".join(pair)}</div>')
            if base_out is not None and not is_ref:
                body.append(
                    f'<div class="diff"><h4>diff: {_e(base_name)} → {_e(col.name)}</h4>'
                    f"{_diff(base_out, out)}</div>"
                )
        if not any("<pre" in b for b in body):
            body.append('<p class="same">no output recorded for this case</p>')
        tag_html = "".join(f'<span class="tag">{_e(t)}</span>' for t in case_tags)
        items.append(
            f'<details class="{classes}" id="case-{_e(cid)}"><summary class="row">'
            f'<span class="cell"><b>{_e(cid)}</b></span>{"".join(cells)}'
            f'<span class="cell">{tag_html}</span></summary>'
            f'<div class="body">{"".join(body)}</div></details>'
        )
    css = [_CSS, f".row {{ --cols: {len(columns)}; }}"]
    for status in _STATUSES:
        css.append(f"body:has(#f-s-{status}:checked) .case:not(.s-{status}) {{ display: none; }}")
        css.append(f"body:has(#f-s-{status}:checked) #empty-{status} {{ display: block; }}")
    for i in range(len(tags)):
        css.append(f"body:has(#f-t-{i}:checked) .case:not(.t-{i}) {{ display: none; }}")
    status_radios = [
        '<input type="radio" name="status" id="f-s-all" checked>'
        f'<label for="f-s-all">all ({len(case_ids)})</label>'
    ]
    for status in _STATUSES:
        status_radios.append(
            f'<input type="radio" name="status" id="f-s-{status}">'
            f'<label for="f-s-{status}">{status} ({status_count[status]})</label>'
        )
    tag_radios = [
        '<input type="radio" name="tag" id="f-t-all" checked><label for="f-t-all">all</label>'
    ]
    for t, i in tag_index.items():
        tag_radios.append(
            f'<input type="radio" name="tag" id="f-t-{i}">'
            f'<label for="f-t-{i}">{_e(t)} ({tag_count[t]})</label>'
        )
    empties = "".join(
        f'<p class="empty-note" id="empty-{s}">{status_count[s]} case(s) {s}.</p>'
        for s in _STATUSES
        if status_count[s] == 0
    )
    header_cells = "".join(f'<span class="cell">{_e(c.name)}</span>' for c in columns)
    comparisons = _comparison((matrix or {}).get("comparison"), "comparison of the columns")
    if matrix is None:
        comparisons = _comparison(first.get("comparison"), "against the baseline")
    cost = (first.get("cost") or {}).get("usd")
    meta = (
        f"{len(case_ids)} cases · {len(columns)} column(s) · mode {_e(first.get('mode', ''))}"
        f" · created {_e(first.get('created', ''))} · llmkit {_e(first.get('llmkit_version', ''))}"
        + ("" if len(columns) > 1 else f" · cost {'unknown' if cost is None else f'${cost:.6f}'}")
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{''.join(css)}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="meta">{meta}</p>'
        f"{_stats_table(columns)}{comparisons}"
        '<h2>Cases</h2><form class="filters" id="filters">'
        f"<fieldset><legend>status</legend>{''.join(status_radios)}</fieldset>"
        f"<fieldset><legend>tag</legend>{''.join(tag_radios)}</fieldset></form>"
        f'<div class="row head"><span class="cell">case</span>{header_cells}'
        '<span class="cell">tags</span></div>'
        f'{empties}<div id="cases">{"".join(items)}</div></body></html>\n'
    )


def write_report(
    folder: str | Path,
    output: str | Path,
    baseline: str | Path | None = None,
    title: str | None = None,
) -> Path:
    """Read a results folder and write its HTML report to ``output``.

    Raises:
        ConfigError: the folder or the baseline cannot be read.
    """
    columns, matrix = load_report_columns(folder)
    base = None
    if baseline is not None:
        base = _read_json(Path(baseline))
        if not isinstance(base, dict) or not isinstance(base.get("per_case"), dict):
            raise ConfigError(f"{baseline}: not an eval summary (no per_case)")
    out = Path(output)
    out.write_text(render_report(columns, base, matrix, title), encoding="utf-8")
    return out
