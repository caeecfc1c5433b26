"""Human annotation: rubrics, conversations, queues, ratings, agreement, adjudication, metrics.

The workflow (see the README's "Human annotation" section)::

    store = Store("sqlite:///annotate.db")          # or postgresql+psycopg://...
    import_jsonl(store, "conversations.jsonl", redact=True)
    store.add_user("ada", "rater", password)
    sample(store, 50, stratify_by="model")
    assign(store, ["ada", "grace"], overlap=0.2, gold_per_rater=3)
    for entry in store.queue("ada"):
        store.rate("ada", entry.item_id, {"overall_quality": 4}, assignment_id=entry.assignment_id)
    ratings(store)                                   # pandas DataFrame
    daily_metrics(store); adjudication_queue(store); rater_report(store)

Names are imported on first use, so ``import llmkit.annotate`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from llmkit.extras import require_extra as _require_extra

_require_extra("llmkit.annotate", "annotate")  # one clear line, not a ModuleNotFoundError below

# public name -> private module that defines it
_EXPORTS: dict[str, str] = {
    "Dimension": "llmkit.annotate._rubric",
    "OffScaleError": "llmkit.annotate._rubric",
    "Rubric": "llmkit.annotate._rubric",
    "RubricError": "llmkit.annotate._rubric",
    "parse_rubric": "llmkit.annotate._rubric",
    "read_rubric": "llmkit.annotate._rubric",
    "DEFAULT_RUBRIC": "llmkit.annotate._data",
    "annotation_dirs": "llmkit.annotate._data",
    "default_rubric": "llmkit.annotate._data",
    "load_rubric": "llmkit.annotate._data",
    "sample_conversations_path": "llmkit.annotate._data",
    "ROLES": "llmkit.annotate._store",
    "AnnotationError": "llmkit.annotate._store",
    "Conversation": "llmkit.annotate._store",
    "QueueEntry": "llmkit.annotate._store",
    "RubricVersion": "llmkit.annotate._store",
    "Store": "llmkit.annotate._store",
    "User": "llmkit.annotate._store",
    "default_db_url": "llmkit.annotate._store",
    "open_store": "llmkit.annotate._store",
    "ratings": "llmkit.annotate._store",
    "ImportDataError": "llmkit.annotate._import",
    "ImportResult": "llmkit.annotate._import",
    "conversations_from_log": "llmkit.annotate._import",
    "import_jsonl": "llmkit.annotate._import",
    "import_log": "llmkit.annotate._import",
    "latency_band": "llmkit.annotate._import",
    "read_conversations": "llmkit.annotate._import",
    "redact_text": "llmkit.annotate._import",
    "Assignment": "llmkit.annotate._sampling",
    "Sample": "llmkit.annotate._sampling",
    "assign": "llmkit.annotate._sampling",
    "sample": "llmkit.annotate._sampling",
    "Dispute": "llmkit.annotate._adjudicate",
    "adjudication_queue": "llmkit.annotate._adjudicate",
    "consensus_labels": "llmkit.annotate._adjudicate",
    "final_labels": "llmkit.annotate._adjudicate",
    "rater_drift": "llmkit.annotate._adjudicate",
    "rater_report": "llmkit.annotate._adjudicate",
    "set_final_label": "llmkit.annotate._adjudicate",
    "DailyMetric": "llmkit.annotate._metrics",
    "daily_metrics": "llmkit.annotate._metrics",
    "export_ratings": "llmkit.annotate._metrics",
    "plot_trend": "llmkit.annotate._metrics",
    "create_app": "llmkit.annotate._web",
    "LEVELS": "llmkit.annotate._agreement",
    "AgreementDataError": "llmkit.annotate._agreement",
    "AgreementSummary": "llmkit.annotate._agreement",
    "agreement_by": "llmkit.annotate._agreement",
    "agreement_summary": "llmkit.annotate._agreement",
    "coerce_values": "llmkit.annotate._agreement",
    "cohen_kappa": "llmkit.annotate._agreement",
    "consensus_agreement": "llmkit.annotate._agreement",
    "fleiss_kappa": "llmkit.annotate._agreement",
    "gwet_ac1": "llmkit.annotate._agreement",
    "krippendorff_alpha": "llmkit.annotate._agreement",
    "pairwise_agreement": "llmkit.annotate._agreement",
    "percent_agreement": "llmkit.annotate._agreement",
    "read_ratings_csv": "llmkit.annotate._agreement",
    "clear_login_failures": "llmkit.annotate._accounts",
    "name_collisions": "llmkit.annotate._accounts",
    "revoke_sessions": "llmkit.annotate._accounts",
    "set_active": "llmkit.annotate._accounts",
    "set_password": "llmkit.annotate._accounts",
    "set_role": "llmkit.annotate._accounts",
}

__all__ = [
    "DEFAULT_RUBRIC",
    "LEVELS",
    "ROLES",
    "AgreementDataError",
    "AgreementSummary",
    "AnnotationError",
    "Assignment",
    "Conversation",
    "DailyMetric",
    "Dimension",
    "Dispute",
    "ImportDataError",
    "ImportResult",
    "OffScaleError",
    "QueueEntry",
    "Rubric",
    "RubricError",
    "RubricVersion",
    "Sample",
    "Store",
    "User",
    "adjudication_queue",
    "agreement_by",
    "agreement_summary",
    "annotation_dirs",
    "assign",
    "clear_login_failures",
    "coerce_values",
    "cohen_kappa",
    "consensus_agreement",
    "consensus_labels",
    "conversations_from_log",
    "create_app",
    "daily_metrics",
    "default_db_url",
    "default_rubric",
    "export_ratings",
    "final_labels",
    "fleiss_kappa",
    "gwet_ac1",
    "import_jsonl",
    "import_log",
    "krippendorff_alpha",
    "latency_band",
    "load_rubric",
    "name_collisions",
    "open_store",
    "pairwise_agreement",
    "parse_rubric",
    "percent_agreement",
    "plot_trend",
    "rater_drift",
    "rater_report",
    "ratings",
    "read_conversations",
    "read_ratings_csv",
    "read_rubric",
    "redact_text",
    "revoke_sessions",
    "sample",
    "sample_conversations_path",
    "set_active",
    "set_final_label",
    "set_password",
    "set_role",
]  # a test checks it equals sorted(_EXPORTS)

if TYPE_CHECKING:
    from llmkit.annotate._accounts import (
        clear_login_failures,
        name_collisions,
        revoke_sessions,
        set_active,
        set_password,
        set_role,
    )
    from llmkit.annotate._adjudicate import (
        Dispute,
        adjudication_queue,
        consensus_labels,
        final_labels,
        rater_drift,
        rater_report,
        set_final_label,
    )
    from llmkit.annotate._agreement import (
        LEVELS,
        AgreementDataError,
        AgreementSummary,
        agreement_by,
        agreement_summary,
        coerce_values,
        cohen_kappa,
        consensus_agreement,
        fleiss_kappa,
        gwet_ac1,
        krippendorff_alpha,
        pairwise_agreement,
        percent_agreement,
        read_ratings_csv,
    )
    from llmkit.annotate._data import (
        DEFAULT_RUBRIC,
        annotation_dirs,
        default_rubric,
        load_rubric,
        sample_conversations_path,
    )
    from llmkit.annotate._import import (
        ImportDataError,
        ImportResult,
        conversations_from_log,
        import_jsonl,
        import_log,
        latency_band,
        read_conversations,
        redact_text,
    )
    from llmkit.annotate._metrics import (
        DailyMetric,
        daily_metrics,
        export_ratings,
        plot_trend,
    )
    from llmkit.annotate._rubric import (
        Dimension,
        OffScaleError,
        Rubric,
        RubricError,
        parse_rubric,
        read_rubric,
    )
    from llmkit.annotate._sampling import (
        Assignment,
        Sample,
        assign,
        sample,
    )
    from llmkit.annotate._store import (
        ROLES,
        AnnotationError,
        Conversation,
        QueueEntry,
        RubricVersion,
        Store,
        User,
        default_db_url,
        open_store,
        ratings,
    )
    from llmkit.annotate._web import create_app


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmkit.annotate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
