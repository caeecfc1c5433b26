"""Latency benchmark: load generation, a fast SSE client, metrics, reports and plots.

Run it from Python::

    from llmkit.bench import BenchConfig, SLO, run_bench

    result = run_bench(BenchConfig(base_url="http://127.0.0.1:8000/v1",
                                   concurrency=(1, 4, 16), requests=64,
                                   slo=SLO(ttft_ms=500, itl_ms=50)))
    result.levels_frame()   # one row per level: ttft_ms_p50, itl_ms_p99, goodput…
    result.to_frame()       # one row per request
    write_report(result, "out/")  # summary.json, requests.csv, plots

or as ``llmkit bench``. Metric names follow :mod:`llmkit.timing`, the glossary the
model client uses too.
"""

from __future__ import annotations

from llmkit.extras import require_extra as _require_extra

_require_extra("llmkit.bench", "bench")  # one clear line, not a ModuleNotFoundError below

from llmkit._sse import SSEEvent, SSEParser
from llmkit.bench._compare import (
    CompareResult,
    CompareUsageError,
    MetricChange,
    compare_runs,
    known_metrics,
    load_summary,
    parse_threshold,
)
from llmkit.bench._config import (
    SLO,
    BenchConfig,
    LoadLevel,
)
from llmkit.bench._metrics import ClientStats, describe, meets_slo, percentile
from llmkit.bench._records import RequestRecord
from llmkit.bench._report import check_output_dir, write_report
from llmkit.bench._runner import (
    SCHEMA_VERSION,
    BenchResult,
    LevelResult,
    ProgressHooks,
    arun_bench,
    run_bench,
)

__all__ = [
    "SCHEMA_VERSION",
    "SLO",
    "BenchConfig",
    "BenchResult",
    "ClientStats",
    "CompareResult",
    "CompareUsageError",
    "LevelResult",
    "LoadLevel",
    "MetricChange",
    "ProgressHooks",
    "RequestRecord",
    "SSEEvent",
    "SSEParser",
    "arun_bench",
    "check_output_dir",
    "compare_runs",
    "describe",
    "known_metrics",
    "load_summary",
    "meets_slo",
    "parse_threshold",
    "percentile",
    "run_bench",
    "write_report",
]
