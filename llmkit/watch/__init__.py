"""Production watch: metrics and spans on the GenAI names, alert rules, canary judge, drift.

Off by default; :func:`enable` or :func:`serve_metrics` turns it on. Needs the ``watch``
extra (``pip install 'llmkit[watch]'``) for OpenTelemetry; rules, dashboards, the canary
judge and drift read only the call log.
"""

import importlib.util as _util

from llmkit.extras import MissingExtraError as _MissingExtraError

# The rules, the canary judge and drift read the call log with pandas; OpenTelemetry is
# needed only by enable()/serve_metrics(), which say so themselves.
if _util.find_spec("numpy") is None or _util.find_spec("pandas") is None:
    raise _MissingExtraError("llmkit.watch", ["watch"])

from llmkit.watch._assign import using_variant, variant
from llmkit.watch._canary import CanaryMetric, CanaryVerdict, VariantSample, compare, judge
from llmkit.watch._dashboard import dashboard
from llmkit.watch._demo import run_demo
from llmkit.watch._drift import DriftReport, DriftSignal, drift
from llmkit.watch._guard import CardinalityWarning
from llmkit.watch._names import names
from llmkit.watch._rules import rules_yaml
from llmkit.watch._scores import read_scores
from llmkit.watch._setup import (
    MetricsServer,
    Watch,
    current,
    disable,
    enable,
    publish_drift,
    serve_metrics,
)
from llmkit.watch._slo import Slo, parse_slo
from llmkit.watch._window import parse_window, select

__all__ = [
    "CanaryMetric",
    "CanaryVerdict",
    "CardinalityWarning",
    "DriftReport",
    "DriftSignal",
    "MetricsServer",
    "Slo",
    "VariantSample",
    "Watch",
    "compare",
    "current",
    "dashboard",
    "disable",
    "drift",
    "enable",
    "judge",
    "names",
    "parse_slo",
    "parse_window",
    "publish_drift",
    "read_scores",
    "rules_yaml",
    "run_demo",
    "select",
    "serve_metrics",
    "using_variant",
    "variant",
]
