"""The rule registry with every built-in rule in it: what readers of the registry import.

The built-in rules register themselves when their modules are imported, and the pipeline
imports them all. A reader (the prompt hints, the taxonomy report, the public ``rules()``)
that imported only ``_rules`` would see whatever happened to be loaded first: the first
rendered prompt lacked its hint lines, so a recorded request no longer matched.
"""

from __future__ import annotations

from llmkit.structured import _pipeline  # noqa: F401  (importing it registers the built-ins)
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

__all__ = [
    "RepairContext",
    "Rule",
    "get_rule",
    "hint_for",
    "register_hint",
    "register_rule",
    "rules",
    "unregister_rule",
]
