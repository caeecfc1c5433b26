"""The registry of repair rules: plain data, so reports can name which rule fired.

A rule is a small named function with a docstring that shows the broken input and the
fixed output. Text rules take ``(text, ctx)`` and return the new text, or ``None`` when
they do not apply. Rules of the ``load`` and ``coerce`` phases are decided inside the
loader and the coercer; their entries carry the documentation and the prompt hint line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = [
    "PHASES",
    "RepairContext",
    "Rule",
    "get_rule",
    "hint_for",
    "register_entries",
    "register_hint",
    "register_rule",
    "rules",
    "unregister_rule",
]

Phase = Literal["extract", "text", "json", "yaml", "load", "coerce"]

#: ``extract`` locates the payload; ``text`` rules apply to both formats; ``json`` and
#: ``yaml`` rules to one format; ``load`` rules are decided by the loader on constructs
#: that load but are commonly misused; ``coerce`` rules fit values to the schema.
PHASES: tuple[str, ...] = ("extract", "text", "json", "yaml", "load", "coerce")


@dataclass
class RepairContext:
    """What a text rule may know besides the text.

    Attributes:
        format: ``"yaml"`` or ``"json"``: the format being repaired.
        error_line: 0-based line of the last load error, if known.
        error_column: 0-based column of the last load error, if known.
        error: message of the last load error.
        truncated: the answer is known or suspected to be cut at the token limit.
        notes: rules may append short notes for the result.
        line_kinds: where a schema is given, ``text → {line index: "string" | "typed"}``
            for the lines whose node the schema types; rules that guess a value's type
            from its shape leave ``"typed"`` lines to YAML's reading and the schema.
    """

    format: str = "yaml"
    error_line: int | None = None
    error_column: int | None = None
    error: str = ""
    truncated: bool = False
    notes: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    line_kinds: Callable[[str], dict[int, str]] | None = None


F = TypeVar("F", bound=Callable[..., Any])

TextRule = Callable[[str, RepairContext], "str | None"]


@dataclass(frozen=True)
class Rule:
    """One entry of the registry.

    Attributes:
        name: stable identifier reported in ``StructuredResult.repairs``.
        phase: one of :data:`PHASES`.
        error_class: the mistake the rule repairs, in a few words.
        hint: one line for a prompt that prevents the mistake.
        func: the function (text rules: ``(text, ctx) -> str | None``).
        lossless: the repair restores exactly what the author meant when it applies.
        example: a ``(broken, fixed)`` pair for entries decided inside the loader, the
            coercer or the JSON engine, which have no function of their own.
    """

    name: str
    phase: str
    error_class: str
    hint: str
    func: Callable[..., Any] | None = None
    lossless: bool = True
    example: tuple[str, str] | None = None

    @property
    def doc(self) -> str:
        """The rule function's docstring, or the entry's example: broken → fixed."""
        if self.func is not None:
            return (self.func.__doc__ or "").strip()
        if self.example is not None:
            return f"`{self.example[0]}` → `{self.example[1]}`"
        return ""


_REGISTRY: dict[str, Rule] = {}
_LAST_RESORT = frozenset(["quote_error_value", "drop_stray_line"])
_EXTRA_HINTS: dict[str, str] = {}


def register_rule(
    name: str,
    *,
    phase: str,
    error_class: str,
    hint: str,
    lossless: bool = True,
    before: str | None = None,
) -> Callable[[F], F]:
    """Decorator that adds a rule to the registry (users may register their own).

    Args:
        name: rule name, unique.
        phase: one of :data:`PHASES`; user text rules usually use ``"yaml"``, ``"json"``
            or ``"text"``.
        error_class: the mistake the rule repairs.
        hint: a prompt line that prevents it (used by ``format_instructions`` and the
            taxonomy report).
        lossless: whether the fix restores the intended value exactly.
        before: insert before this rule instead of at the end of the phase.

    Returns:
        The decorator; the function is returned unchanged.

    Example:
        >>> @register_rule("strip_stars", phase="yaml", error_class="bold markers",
        ...                hint="Do not use ** for emphasis.")
        ... def strip_stars(text, ctx):
        ...     '''`**a**: 1` → `a: 1`'''
        ...     return text.replace("**", "") if "**" in text else None
    """
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; expected one of {PHASES}")

    def deco(func: F) -> F:
        rule = Rule(name, phase, error_class, hint, func, lossless)
        anchor = before
        if anchor is None and not getattr(func, "__module__", "").startswith("llmkit.structured"):
            # user rules run before the built-in last resorts of their phase
            anchor = next(
                (r.name for r in _REGISTRY.values() if r.phase == phase and r.name in _LAST_RESORT),
                None,
            )
        if anchor is not None and anchor in _REGISTRY:
            items = list(_REGISTRY.items())
            _REGISTRY.clear()
            for key, value in items:
                if key == anchor:
                    _REGISTRY[name] = rule
                if key != name:
                    _REGISTRY[key] = value
        else:
            _REGISTRY.pop(name, None)
            _REGISTRY[name] = rule
        return func

    return deco


Entry = tuple[str, str, str, str, str] | tuple[str, str, str, str, str, bool]


def register_entries(phase: str, entries: list[Entry]) -> None:
    """Add data entries: repairs decided inside the loader, coercer or JSON engine.

    Each entry is ``(name, error_class, hint, broken, fixed)`` with an optional trailing
    ``lossless`` flag (default ``True``). They carry what a report and a prompt need; the
    code that applies them lives where the decision is made.
    """
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; expected one of {PHASES}")
    for entry in entries:
        name, error_class, hint, broken, fixed = entry[:5]
        lossless = bool(entry[5]) if len(entry) > 5 else True
        _REGISTRY[name] = Rule(name, phase, error_class, hint, None, lossless, (broken, fixed))


def unregister_rule(name: str) -> None:
    """Remove a rule (built-in or user) from the registry."""
    _REGISTRY.pop(name, None)


def register_hint(name: str, hint: str) -> None:
    """Set or override the prompt hint line for a rule or an error class name."""
    _EXTRA_HINTS[name] = hint


def get_rule(name: str) -> Rule | None:
    """The registry entry called ``name``, if any."""
    return _REGISTRY.get(name)


def hint_for(name: str) -> str | None:
    """The prompt hint line for a rule name (user overrides first)."""
    if name in _EXTRA_HINTS:
        return _EXTRA_HINTS[name]
    rule = _REGISTRY.get(name)
    return rule.hint if rule else None


def rules(phase: str | None = None) -> list[Rule]:
    """Registered rules in application order, optionally only one phase."""
    return [r for r in _REGISTRY.values() if phase is None or r.phase == phase]
