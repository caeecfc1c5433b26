"""Scenario files: which answer the engine gives to which request.

A scenario is YAML::

    pools:                      # named lists of values for placeholders
      city: [Lisbon, Osaka]
    rules:                      # first matching rule wins
      - name: ticket-yaml
        match:                  # every given key must match (regex search)
          user: '(?i)\\byaml\\b'  # last user message (or the prompt, for /v1/completions)
          system: ...           # any system message
          any: ...              # any message
          model: ...            # the requested model name
          endpoint: chat        # chat | completions
        format: yaml            # text | yaml | json (structured answers can be malformed)
        reasoning: ["..."]      # optional reasoning templates
        reasoning_style: think  # think (<think>…</think> in content) | field (reasoning_content)
        schema: {...}           # optional JSON Schema of the answer, for tests to use
        answers: ["..."]        # answer templates; one is picked per request

Placeholders are ``{{ ... }}``: ``{{city}}`` draws from a pool (values not yet used in
this answer first), ``{{int 1 9}}``, ``{{digits 6}}``, ``{{choice a|b}}``,
``{{echo 8}}`` (first words of the user message); a ``#label`` suffix
(``{{city#home}}``) binds the value so every use of the label repeats it. The RNG is
seeded per request from the engine seed and the request content, never from arrival order.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from llmkit._exceptions import ConfigError

__all__ = [
    "RenderedAnswer",
    "Rule",
    "Scenario",
    "default_scenario_text",
    "load_scenario",
    "request_seed",
]

Format = Literal["text", "yaml", "json"]
ReasoningStyle = Literal["think", "field"]

_PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_FALLBACK = "I have no scripted answer for that, but I am here and listening."


def request_seed(*parts: object) -> int:
    """A 64-bit seed from the engine seed and request content (stable across runs)."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(repr(part).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return int.from_bytes(h.digest(), "big")


@dataclass(frozen=True)
class _Slot:
    op: str
    args: tuple[str, ...]
    label: str


_Piece = str | _Slot


def _compile(template: str, pools: Mapping[str, Sequence[str]], where: str) -> tuple[_Piece, ...]:
    pieces: list[_Piece] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.start() > pos:
            pieces.append(template[pos : m.start()])
        expr, _, label = m.group(1).partition("#")
        words = expr.split()
        if not words:
            raise ConfigError(f"{where}: empty placeholder {m.group(0)!r}")
        op, args = words[0], tuple(words[1:])
        if op == "int" or op == "digits" or op == "echo":
            try:
                [int(a) for a in args]
            except ValueError:
                raise ConfigError(f"{where}: {m.group(0)!r} needs integer arguments") from None
            if len(args) != (2 if op == "int" else 1):
                raise ConfigError(f"{where}: {m.group(0)!r} has the wrong number of arguments")
        elif op == "choice":
            if not args:
                raise ConfigError(f"{where}: {m.group(0)!r} needs choices like a|b|c")
            args = tuple(" ".join(args).split("|"))
        elif op not in pools:
            raise ConfigError(f"{where}: unknown pool or function {op!r} in {m.group(0)!r}")
        pieces.append(_Slot(op, args, label.strip()))
        pos = m.end()
    if pos < len(template):
        pieces.append(template[pos:])
    return tuple(pieces)


@dataclass(frozen=True)
class Rule:
    """One ``rules`` entry of a scenario (see the module docstring)."""

    name: str
    answers: tuple[tuple[_Piece, ...], ...]
    format: Format = "text"
    reasoning: tuple[tuple[_Piece, ...], ...] = ()
    reasoning_style: ReasoningStyle = "think"
    user: re.Pattern[str] | None = None
    system: re.Pattern[str] | None = None
    any: re.Pattern[str] | None = None
    model: re.Pattern[str] | None = None
    endpoint: str | None = None
    schema: Mapping[str, Any] | None = None

    def matches(self, model: str, endpoint: str, user: str, system: str, every: str) -> bool:
        """Whether a request with these texts selects this rule."""
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        if self.model is not None and not self.model.search(model):
            return False
        if self.user is not None and not self.user.search(user):
            return False
        if self.system is not None and not self.system.search(system):
            return False
        return self.any is None or bool(self.any.search(every))


@dataclass(frozen=True)
class RenderedAnswer:
    """An answer filled in for one request."""

    rule: str
    format: Format
    content: str
    reasoning: str = ""
    reasoning_style: ReasoningStyle = "think"


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: pools and ordered rules."""

    name: str
    pools: Mapping[str, tuple[str, ...]]
    rules: tuple[Rule, ...]
    source: str = ""
    _by_name: Mapping[str, Rule] = field(default_factory=dict, repr=False, compare=False)

    def rule(self, name: str) -> Rule:
        """The rule called ``name`` (raises ``KeyError``)."""
        return self._by_name[name]

    def pick(
        self, model: str, endpoint: str, user: str, system: str = "", every: str = ""
    ) -> Rule | None:
        """The first rule matching the request, or ``None``."""
        for rule in self.rules:
            if rule.matches(model, endpoint, user, system, every or user):
                return rule
        return None

    def answer(
        self,
        rng: random.Random,
        *,
        model: str,
        endpoint: str,
        user: str,
        system: str = "",
        every: str = "",
    ) -> RenderedAnswer:
        """Pick the rule and fill one of its templates with ``rng``."""
        rule = self.pick(model, endpoint, user, system, every)
        if rule is None:
            return RenderedAnswer(rule="", format="text", content=_FALLBACK)
        state: dict[str, Any] = {}
        content = self._fill(rng.choice(rule.answers), rng, user, state).rstrip()
        reasoning = (
            self._fill(rng.choice(rule.reasoning), rng, user, state) if rule.reasoning else ""
        )
        return RenderedAnswer(
            rule=rule.name,
            format=rule.format,
            content=content or _FALLBACK,
            reasoning=reasoning,
            reasoning_style=rule.reasoning_style,
        )

    def _fill(
        self, pieces: tuple[_Piece, ...], rng: random.Random, user: str, state: dict[str, Any]
    ) -> str:
        bound: dict[str, str] = state.setdefault("bound", {})
        used: dict[str, set[str]] = state.setdefault("used", {})
        out: list[str] = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            if piece.label and piece.label in bound:
                out.append(bound[piece.label])
                continue
            value = self._draw(piece, rng, user, used)
            if piece.label:
                bound[piece.label] = value
            out.append(value)
        return "".join(out)

    def _draw(self, slot: _Slot, rng: random.Random, user: str, used: dict[str, set[str]]) -> str:
        op, args = slot.op, slot.args
        if op == "int":
            return str(rng.randint(int(args[0]), int(args[1])))
        if op == "digits":
            return "".join(rng.choice("0123456789") for _ in range(int(args[0])))
        if op == "choice":
            return rng.choice(args)
        if op == "echo":
            words = user.split()[: int(args[0])]
            return " ".join(words).strip("\"'`:#{}[]") or "that"
        pool = self.pools[op]
        seen = used.setdefault(op, set())
        fresh = [v for v in pool if v not in seen] or list(pool)
        value = rng.choice(fresh)
        seen.add(value)
        return value


def _regex(value: Any, where: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: a match must be a regex string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ConfigError(f"{where}: bad regex {value!r}: {exc}") from None


def _templates(
    value: Any, pools: Mapping[str, Sequence[str]], where: str
) -> tuple[tuple[_Piece, ...], ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(t, str) for t in items):
        raise ConfigError(f"{where}: expected a string or a list of strings")
    return tuple(_compile(t, pools, where) for t in items)


def _parse(data: Any, source: str) -> Scenario:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a scenario must be a mapping with 'rules'")
    raw_pools = data.get("pools") or {}
    if not isinstance(raw_pools, dict):
        raise ConfigError(f"{source}: 'pools' must map names to lists")
    pools: dict[str, tuple[str, ...]] = {}
    for name, values in raw_pools.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: pool {name!r} must be a non-empty list")
        if not all(isinstance(v, str | int | float) for v in values):
            raise ConfigError(f"{source}: pool {name!r} must list plain values (text, numbers)")
        pools[str(name)] = tuple(str(v) for v in values)
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ConfigError(f"{source}: 'rules' must be a non-empty list")
    rules: list[Rule] = []
    for i, item in enumerate(raw_rules):
        if not isinstance(item, dict):
            raise ConfigError(f"{source}: rule {i} must be a mapping")
        name = str(item.get("name") or f"rule-{i}")
        where = f"{source}: rule {name!r}"
        match = item.get("match") or {}
        if not isinstance(match, dict):
            raise ConfigError(f"{where}: 'match' must be a mapping")
        unknown = set(match) - {"user", "system", "any", "model", "endpoint"}
        if unknown:
            raise ConfigError(f"{where}: unknown match keys {sorted(unknown)}")
        fmt = item.get("format", "text")
        if fmt not in ("text", "yaml", "json"):
            raise ConfigError(f"{where}: format must be text, yaml or json")
        style = item.get("reasoning_style", "think")
        if style not in ("think", "field"):
            raise ConfigError(f"{where}: reasoning_style must be think or field")
        endpoint = match.get("endpoint")
        if endpoint not in (None, "chat", "completions"):
            raise ConfigError(f"{where}: endpoint must be chat or completions")
        answers = _templates(item.get("answers"), pools, where)
        if not answers:
            raise ConfigError(f"{where}: needs at least one answer")
        schema = item.get("schema")
        if schema is not None and not isinstance(schema, dict):
            raise ConfigError(f"{where}: schema must be a mapping")
        rules.append(
            Rule(
                name=name,
                answers=answers,
                format=fmt,
                reasoning=_templates(item.get("reasoning"), pools, where),
                reasoning_style=style,
                user=_regex(match.get("user"), where),
                system=_regex(match.get("system"), where),
                any=_regex(match.get("any"), where),
                model=_regex(match.get("model"), where),
                endpoint=endpoint,
                schema=schema,
            )
        )
    return Scenario(
        name=str(data.get("name") or source),
        pools=pools,
        rules=tuple(rules),
        source=source,
        _by_name={r.name: r for r in rules},
    )


def default_scenario_text() -> str:
    """The YAML text of the shipped default scenario."""
    res = importlib.resources.files("llmkit.engine").joinpath("scenarios/default.yaml")
    return res.read_text(encoding="utf-8")


# A scenario is a hand-written file; anything larger is a mistake (or not a scenario).
_MAX_SCENARIO_BYTES = 16 * 1024 * 1024


def _yaml_error(exc: yaml.YAMLError, text: str, source: str) -> ConfigError:
    """One line naming the file, and the line and column where YAML gave up."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    reason = ", ".join(str(p) for p in parts if p)
    if isinstance(exc, yaml.reader.ReaderError):  # a control character, e.g. NUL
        line = text.count("\n", 0, exc.position) + 1
        where = f"{source}:{line}"
        reason = (
            f"unacceptable character #x{exc.character:04x}"
            if isinstance(exc.character, int)
            else str(exc.reason)
        )
    reason = " ".join((reason or type(exc).__name__).split())  # one line
    return ConfigError(f"{where}: not valid YAML: {reason}")


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load a scenario file, or the shipped default when ``path`` is ``None``.

    Raises:
        ConfigError: the file is missing, too large, not UTF-8 text, not YAML, or not a
            valid scenario; one line naming the file (and the line, for YAML errors).
    """
    if path is None:
        text, source = default_scenario_text(), "default.yaml"
    else:
        source = str(path)
        try:
            with Path(path).open("rb") as f:
                data = f.read(_MAX_SCENARIO_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read scenario {path}: {exc.strerror or exc}") from None
        if len(data) > _MAX_SCENARIO_BYTES:
            raise ConfigError(f"{source}: larger than {_MAX_SCENARIO_BYTES >> 20} MiB")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{source}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); a scenario is a YAML file"
            ) from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source) from None
    except RecursionError:
        raise ConfigError(f"{source}: not a scenario: nested too deeply") from None
    return _parse(loaded, source)
