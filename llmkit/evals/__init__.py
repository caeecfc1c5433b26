"""Regression evaluation: suites over recorded model traffic, scorers, replay, reports.

from llmkit.evals import load_suite, run_suite

run = run_suite(load_suite("prompts/support_ticket.eval.yaml"))   # replay: no network
run.summary()["pass_rate"]
"""

from llmkit.extras import require_extra as _require_extra

_require_extra("llmkit.evals", "eval")  # one clear line, not a ModuleNotFoundError below

from llmkit.evals._baseline import (
    BaselineError,
    Comparison,
    MetricComparison,
    compare_to_baseline,
    load_baseline,
    write_baseline,
)
from llmkit.evals._calibrate import (
    Calibration,
    CalibrationError,
    calibrate,
    require_calibration,
    save_calibration,
)
from llmkit.evals._cassettes import CassetteError, canonical_body, scrub_text, scrub_uri
from llmkit.evals._cost import Price, add_junit_costs, apply_cost, cost_line
from llmkit.evals._demo import example_suite_path
from llmkit.evals._gate import Verdict, baseline_path, judge_run
from llmkit.evals._matrix import (
    Column,
    MatrixRun,
    compare_columns,
    find_column,
    matrix_columns,
    matrix_document,
    matrix_exit_code,
    matrix_junit,
    matrix_markdown,
    run_matrix,
    write_matrix_results,
)
from llmkit.evals._matrix import table_rows as matrix_table_rows
from llmkit.evals._merge import is_matrix_result, merge_matrix_shards, merge_shards
from llmkit.evals._report import markdown_summary, print_table, write_junit, write_results
from llmkit.evals._runner import (
    CaseRun,
    EvalInterrupted,
    EvalRun,
    ScoreRecord,
    cassette_client,
    run_suite,
)
from llmkit.evals._scorers import (
    Score,
    ScoreContext,
    Scorer,
    register_scorer,
    registered_scorers,
    resolve_path,
)
from llmkit.evals._shard import Shard, parse_shard, shard_of
from llmkit.evals._suite import Case, ScorerSpec, Suite, SuiteError, load_suite
from llmkit.evals._view import ReportColumn, load_report_columns, render_report, write_report

__all__ = [
    "BaselineError",
    "Calibration",
    "CalibrationError",
    "Case",
    "CaseRun",
    "CassetteError",
    "Column",
    "Comparison",
    "EvalInterrupted",
    "EvalRun",
    "MatrixRun",
    "MetricComparison",
    "Price",
    "ReportColumn",
    "Score",
    "ScoreContext",
    "ScoreRecord",
    "Scorer",
    "ScorerSpec",
    "Shard",
    "Suite",
    "SuiteError",
    "Verdict",
    "add_junit_costs",
    "apply_cost",
    "baseline_path",
    "calibrate",
    "canonical_body",
    "cassette_client",
    "compare_columns",
    "compare_to_baseline",
    "cost_line",
    "example_suite_path",
    "find_column",
    "is_matrix_result",
    "judge_run",
    "load_baseline",
    "load_report_columns",
    "load_suite",
    "markdown_summary",
    "matrix_columns",
    "matrix_document",
    "matrix_exit_code",
    "matrix_junit",
    "matrix_markdown",
    "matrix_table_rows",
    "merge_matrix_shards",
    "merge_shards",
    "parse_shard",
    "print_table",
    "register_scorer",
    "registered_scorers",
    "render_report",
    "require_calibration",
    "resolve_path",
    "run_matrix",
    "run_suite",
    "save_calibration",
    "scrub_text",
    "scrub_uri",
    "shard_of",
    "write_baseline",
    "write_junit",
    "write_matrix_results",
    "write_report",
    "write_results",
]
