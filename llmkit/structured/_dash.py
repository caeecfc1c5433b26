"""A list item that lost the space after its dash (`-b`, `-"x"`), defined once.

Two strengths: :func:`glued_item` says a line *may* be such an item (`-b`; never `-5`,
`-.5`, `--flag` or `- b`), for rules that also ask a sibling item or the schema;
:func:`item_lost_space` says it *is* one (a quote, bracket or YAML indicator after the
dash: `-"x"`, `-[a]`), never prose.
"""

from __future__ import annotations

from llmkit._lazy import lazy_pattern

__all__ = ["GLUED_DASH", "glued_item", "item_lost_space"]

#: the lead (group 1) and a dash glued to what follows: `  -b`, not `  -5` or `  --x`
GLUED_DASH = lazy_pattern(r"([ \t]*)-(?=[^\s\d.\-])")


def glued_item(text: str) -> bool:
    """`-b`, `  -blue`: perhaps an item that lost its space (a text may start so too)."""
    return GLUED_DASH.match(text) is not None and not text.lstrip(" \t").startswith("---")


def item_lost_space(line: str) -> bool:
    """`-"x"`, `-[a]`: a list item that lost the space after its dash, never prose."""
    s = line.strip()
    return s[:1] == "-" and s[1:2] != "" and s[1:2] in "\"'{[`*&!@%#"
