"""Structured output, hardened: extract → repair → load → coerce → validate → re-prompt last.

>>> from llmkit.structured import parse
>>> r = parse("```yaml\\ntitle: Note: read this\\n```", {"type": "object"})
>>> r.value, r.stage, r.repairs
({'title': 'Note: read this'}, 'repaired', ('extract_fence', 'quote_colon_value'))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmkit._lazy import lazy_exports

# public name -> module that defines it: imported on first use, so the first `parse`
# never loads the tokenizer (token_cost), the stream parser or the report writers
_EXPORTS: dict[str, str] = {
    "CompiledSchema": "llmkit.structured._schema",
    "DEFAULT_HINTS": "llmkit.structured._instructions",
    "Limits": "llmkit.structured._load",
    "Partial": "llmkit.structured._stream",
    "Plain": "llmkit.structured._load",
    "RepairContext": "llmkit.structured._registry",
    "Rule": "llmkit.structured._registry",
    "STAGES": "llmkit.structured._result",
    "StreamParser": "llmkit.structured._stream",
    "StructuredResult": "llmkit.structured._result",
    "Taxonomy": "llmkit.structured._taxonomy",
    "TokenCost": "llmkit.structured._cost",
    "aiter_partial": "llmkit.structured._stream",
    "arun_structured": "llmkit.structured._reprompt",
    "compile_schema": "llmkit.structured._schema",
    "dataclass_schema": "llmkit.structured._schema",
    "detect_format": "llmkit.structured._pipeline",
    "example_value": "llmkit.structured._instructions",
    "failure_class": "llmkit.structured._taxonomy",
    "format_instructions": "llmkit.structured._instructions",
    "get_rule": "llmkit.structured._registry",
    "hint_for": "llmkit.structured._registry",
    "hint_lines": "llmkit.structured._instructions",
    "iter_partial": "llmkit.structured._stream",
    "load_schema": "llmkit.structured._schema",
    "loads": "llmkit.structured._pipeline",
    "parse": "llmkit.structured._pipeline",
    "register_hint": "llmkit.structured._registry",
    "register_rule": "llmkit.structured._registry",
    "reprompt_message": "llmkit.structured._reprompt",
    "resolve_core": "llmkit.structured._load",
    "response_format": "llmkit.structured._instructions",
    "rules": "llmkit.structured._registry",
    "run_structured": "llmkit.structured._reprompt",
    "taxonomy": "llmkit.structured._taxonomy",
    "taxonomy_from_jsonl": "llmkit.structured._taxonomy",
    "taxonomy_from_log": "llmkit.structured._taxonomy",
    "to_jsonable": "llmkit.structured._result",
    "token_cost": "llmkit.structured._cost",
    "unregister_rule": "llmkit.structured._registry",
}

if TYPE_CHECKING:
    from llmkit.structured._cost import TokenCost as TokenCost
    from llmkit.structured._cost import token_cost as token_cost
    from llmkit.structured._instructions import DEFAULT_HINTS as DEFAULT_HINTS
    from llmkit.structured._instructions import example_value as example_value
    from llmkit.structured._instructions import format_instructions as format_instructions
    from llmkit.structured._instructions import hint_lines as hint_lines
    from llmkit.structured._instructions import response_format as response_format
    from llmkit.structured._load import Limits as Limits
    from llmkit.structured._load import Plain as Plain
    from llmkit.structured._load import resolve_core as resolve_core
    from llmkit.structured._pipeline import detect_format as detect_format
    from llmkit.structured._pipeline import loads as loads
    from llmkit.structured._pipeline import parse as parse
    from llmkit.structured._reprompt import arun_structured as arun_structured
    from llmkit.structured._reprompt import reprompt_message as reprompt_message
    from llmkit.structured._reprompt import run_structured as run_structured
    from llmkit.structured._result import STAGES as STAGES
    from llmkit.structured._result import StructuredResult as StructuredResult
    from llmkit.structured._result import to_jsonable as to_jsonable
    from llmkit.structured._rules import RepairContext as RepairContext
    from llmkit.structured._rules import Rule as Rule
    from llmkit.structured._rules import get_rule as get_rule
    from llmkit.structured._rules import hint_for as hint_for
    from llmkit.structured._rules import register_hint as register_hint
    from llmkit.structured._rules import register_rule as register_rule
    from llmkit.structured._rules import rules as rules
    from llmkit.structured._rules import unregister_rule as unregister_rule
    from llmkit.structured._schema import CompiledSchema as CompiledSchema
    from llmkit.structured._schema import compile_schema as compile_schema
    from llmkit.structured._schema import dataclass_schema as dataclass_schema
    from llmkit.structured._schema import load_schema as load_schema
    from llmkit.structured._stream import Partial as Partial
    from llmkit.structured._stream import StreamParser as StreamParser
    from llmkit.structured._stream import aiter_partial as aiter_partial
    from llmkit.structured._stream import iter_partial as iter_partial
    from llmkit.structured._taxonomy import Taxonomy as Taxonomy
    from llmkit.structured._taxonomy import failure_class as failure_class
    from llmkit.structured._taxonomy import taxonomy as taxonomy
    from llmkit.structured._taxonomy import taxonomy_from_jsonl as taxonomy_from_jsonl
    from llmkit.structured._taxonomy import taxonomy_from_log as taxonomy_from_log

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


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__
