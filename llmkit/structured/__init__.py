"""Structured output, hardened: extract → repair → load → coerce → validate → re-prompt last.

>>> from llmkit.structured import parse
>>> r = parse("```yaml\\ntitle: Note: read this\\n```", {"type": "object"})
>>> r.value, r.stage, r.repairs
({'title': 'Note: read this'}, 'repaired', ('extract_fence', 'quote_colon_value'))
"""

from __future__ import annotations

from llmkit.structured._cost import TokenCost, token_cost
from llmkit.structured._instructions import (
    DEFAULT_HINTS,
    example_value,
    format_instructions,
    hint_lines,
    response_format,
)
from llmkit.structured._load import Limits, Plain, resolve_core
from llmkit.structured._pipeline import detect_format, loads, parse
from llmkit.structured._reprompt import arun_structured, reprompt_message, run_structured
from llmkit.structured._result import STAGES, StructuredResult, to_jsonable
from llmkit.structured._rules import (
    RepairContext,
    Rule,
    get_rule,
    hint_for,
    register_hint,
    register_rule,
    rules,
    unregister_rule,
)
from llmkit.structured._schema import (
    CompiledSchema,
    compile_schema,
    dataclass_schema,
    load_schema,
)
from llmkit.structured._stream import Partial, StreamParser, aiter_partial, iter_partial
from llmkit.structured._taxonomy import (
    Taxonomy,
    failure_class,
    taxonomy,
    taxonomy_from_jsonl,
    taxonomy_from_log,
)

__all__ = [
    "DEFAULT_HINTS",
    "STAGES",
    "CompiledSchema",
    "Limits",
    "Partial",
    "Plain",
    "RepairContext",
    "Rule",
    "StreamParser",
    "StructuredResult",
    "Taxonomy",
    "TokenCost",
    "aiter_partial",
    "arun_structured",
    "compile_schema",
    "dataclass_schema",
    "detect_format",
    "example_value",
    "failure_class",
    "format_instructions",
    "get_rule",
    "hint_for",
    "hint_lines",
    "iter_partial",
    "load_schema",
    "loads",
    "parse",
    "register_hint",
    "register_rule",
    "reprompt_message",
    "resolve_core",
    "response_format",
    "rules",
    "run_structured",
    "taxonomy",
    "taxonomy_from_jsonl",
    "taxonomy_from_log",
    "to_jsonable",
    "token_cost",
    "unregister_rule",
]
