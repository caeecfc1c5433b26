"""Suite files (``prompts/*.eval.yaml``): loading with line numbers, validation, data classes.

A suite holds the prompt template (inline, or the name of a ``prompts/`` template), the
model settings, the cases and the scorers::

    name: support_ticket
    prompt: {format: yaml, messages: [...], schema: {...}}   # or: prompt: support_ticket
    model: {name: llmkit-sim, temperature: 0, max_tokens: 300}
    min_pass_rate: 1.0
    scorers:                       # every case gets these
      - {type: schema_valid}
    cases:
      - id: damaged-headphones
        vars: {message: "..."}
        expected: {priority: high}
        tags: [smoke]
        repeat: 1
        scorers: [{type: field_equals, path: priority}]

The YAML is composed into nodes first so every error names the file, line and field.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped,unused-ignore]

from llmkit._exceptions import ConfigError
from llmkit.evals._cases_file import CASE_FILE_SUFFIXES, read_case_file
from llmkit.evals._cost import Price, load_prices
from llmkit.evals._errors import SuiteError
from llmkit.evals._reducers import DEFAULT_REDUCER, parse_reducer
from llmkit.evals._scorers import validate_spec
from llmkit.prompts import PromptTemplate, load_prompt
from llmkit.structured import compile_schema

__all__ = ["Case", "ScorerSpec", "Suite", "SuiteError", "load_suite"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SUITE_KEYS = {
    "name",
    "description",
    "prompt",
    "model",
    "min_pass_rate",
    "scorers",
    "cases",
    "cassettes",
    "baseline",
    "structured",
    "prices",
    "max_cost",
    "reducer",
    "matrix",
}
# libyaml's composer when built (5-10x faster on a 200-case suite); same nodes and marks
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CASE_KEYS = {"id", "vars", "expected", "tags", "repeat", "scorers", "description", "reducer"}
# The request parameters the OpenAI chat completions API defines, and llmkit's own keys
# (``name``; ``max_attempts`` of a structured call; ``extra_body`` for everything else, so a
# typo such as ``temprature`` is an error, not a parameter a server silently ignores).
_CHAT_PARAMS = {
    "audio",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
}
_MODEL_KEYS = _CHAT_PARAMS | {"name", "max_attempts", "extra_body"}


@dataclass(frozen=True)
class ScorerSpec:
    """One scorer as written in the suite: its ``type``, ``name`` and options."""

    type: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The spec as it would be written in a suite file."""
        return {"type": self.type, "name": self.name, **self.options}


@dataclass(frozen=True)
class Case:
    """One case: template variables, expected values, tags, repeats and extra scorers."""

    id: str
    vars: dict[str, Any]
    expected: Any = None
    tags: tuple[str, ...] = ()
    repeat: int = 1
    scorers: tuple[ScorerSpec, ...] = ()
    line: int | None = None
    source: str | None = None  # the case file it came from (None: the suite file)
    reducer: str = DEFAULT_REDUCER  # how repeats reduce (llmkit.evals._reducers)

    def to_dict(self) -> dict[str, Any]:
        """The case as plain JSON-ready data."""
        return {
            "id": self.id,
            "vars": self.vars,
            "expected": self.expected,
            "tags": list(self.tags),
            "repeat": self.repeat,
            "scorers": [s.to_dict() for s in self.scorers],
        }


@dataclass(frozen=True)
class Suite:
    """A validated suite file."""

    name: str
    path: Path
    prompt: PromptTemplate
    cases: tuple[Case, ...]
    scorers: tuple[ScorerSpec, ...] = ()
    model: dict[str, Any] = field(default_factory=dict)
    min_pass_rate: float = 1.0
    cassette_dir: Path = Path("cassettes")
    baseline: dict[str, Any] = field(default_factory=dict)
    structured: bool = True
    description: str = ""
    prices: dict[str, Price] = field(default_factory=dict)
    max_cost: float | None = None
    # prompts × models run side by side (llmkit.evals._matrix); empty: no matrix
    matrix_prompts: tuple[tuple[str, PromptTemplate], ...] = ()
    matrix_models: tuple[str, ...] = ()

    @property
    def model_name(self) -> str:
        """The model the suite asks for (``llmkit-sim`` when none is named)."""
        return str(self.model.get("name") or "llmkit-sim")

    @property
    def params(self) -> dict[str, Any]:
        """Request parameters besides the model name (temperature, max_tokens, ...)."""
        return {k: v for k, v in self.model.items() if k != "name"}

    def case(self, case_id: str) -> Case:
        """The case called ``case_id``; a ``ConfigError`` if there is none."""
        for c in self.cases:
            if c.id == case_id:
                return c
        raise ConfigError(f"{self.path}: no case {case_id!r}")

    def scorers_for(self, case: Case) -> tuple[ScorerSpec, ...]:
        """The suite-wide scorers followed by the case's own."""
        return self.scorers + case.scorers

    def select(self, tags: Mapping[str, None] | set[str] | None) -> tuple[Case, ...]:
        """Cases carrying any of ``tags`` (all cases when ``tags`` is empty)."""
        if not tags:
            return self.cases
        return tuple(c for c in self.cases if set(c.tags) & set(tags))


# --- node helpers --------------------------------------------------------------------------
class _Ctx:
    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def error(self, message: str, node: yaml.Node | None, field: str) -> SuiteError:
        line = node.start_mark.line + 1 if node is not None else None
        return SuiteError(message, path=self.path, line=line, field=field)


def _value(node: yaml.Node) -> Any:
    """A composed node as plain Python (safe constructor: no tags run code)."""
    return yaml.constructor.SafeConstructor().construct_document(node)


def _mapping(ctx: _Ctx, node: yaml.Node, field: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise ctx.error("expected a mapping", node, field)
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, val in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise ctx.error("keys must be plain strings", key, field)
        if key.value in out:
            raise ctx.error(f"duplicate key {key.value!r}", key, field)
        out[key.value] = (key, val)
    return out


def _str(ctx: _Ctx, node: yaml.Node, field: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.value == "":
        raise ctx.error("expected a non-empty string", node, field)
    return str(node.value)


def _number(ctx: _Ctx, node: yaml.Node, field: str, lo: float, hi: float) -> float:
    try:
        value = float(node.value) if isinstance(node, yaml.ScalarNode) else None
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        raise ctx.error(f"expected a number from {lo:g} to {hi:g}", node, field)
    return value


def _unknown(
    ctx: _Ctx, m: dict[str, tuple[yaml.Node, yaml.Node]], known: set[str], field: str
) -> None:
    for key, (knode, _) in m.items():
        if key not in known:
            raise ctx.error(
                f"unknown key {key!r} (known: {', '.join(sorted(known))})",
                knode,
                f"{field}.{key}" if field else key,
            )


def _model(ctx: _Ctx, node: yaml.Node) -> dict[str, Any]:
    """The ``model:`` block: the chat API's parameters, and anything else in ``extra_body``."""
    m = _mapping(ctx, node, "model")
    for key, (knode, _) in m.items():
        if key not in _MODEL_KEYS:
            close = difflib.get_close_matches(key, sorted(_MODEL_KEYS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ctx.error(
                f"unknown model parameter {key!r}: {hint}the chat API defines "
                f"{', '.join(sorted(_CHAT_PARAMS))}; put any other under 'extra_body:'",
                knode,
                f"model.{key}",
            )
    if "extra_body" in m and not isinstance(m["extra_body"][1], yaml.MappingNode):
        raise ctx.error("expected a mapping", m["extra_body"][1], "model.extra_body")
    return dict(_value(node))


def _scorers(ctx: _Ctx, node: yaml.Node, field: str) -> tuple[ScorerSpec, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise ctx.error("expected a list of scorers", node, field)
    specs: list[ScorerSpec] = []
    names: set[str] = set()
    for i, item in enumerate(node.value):
        where = f"{field}[{i}]"
        if isinstance(item, yaml.ScalarNode):  # shorthand: "- schema_valid"
            kind, options, name = _str(ctx, item, where), {}, None
        else:
            m = _mapping(ctx, item, where)
            if "type" not in m:
                raise ctx.error("a scorer needs a 'type'", item, where)
            kind = _str(ctx, m["type"][1], f"{where}.type")
            name = _str(ctx, m["name"][1], f"{where}.name") if "name" in m else None
            options = {k: _value(v) for k, (_, v) in m.items() if k not in ("type", "name")}
        spec = ScorerSpec(
            type=kind, name=name or kind, options=options, line=item.start_mark.line + 1
        )
        if spec.name in names:
            raise ctx.error(f"two scorers are called {spec.name!r}; give one a 'name'", item, where)
        names.add(spec.name)
        try:
            validate_spec(spec, Path(ctx.path).resolve().parent)
        except SuiteError as exc:
            raise ctx.error(
                exc.reason, item, f"{where}{'.' + exc.field if exc.field else ''}"
            ) from None
        specs.append(spec)
    return tuple(specs)


def _prompt(ctx: _Ctx, node: yaml.Node, base: Path) -> PromptTemplate:
    if isinstance(node, yaml.ScalarNode):
        name = _str(ctx, node, "prompt")
        local = base / f"{name}.yaml"
        try:
            return load_prompt(local if local.exists() else name)
        except ConfigError as exc:
            raise ctx.error(str(exc), node, "prompt") from None
    m = _mapping(ctx, node, "prompt")
    if "messages" not in m:
        raise ctx.error("an inline prompt needs 'messages'", node, "prompt")
    msgs_node = m["messages"][1]
    if not isinstance(msgs_node, yaml.SequenceNode) or not msgs_node.value:
        raise ctx.error("expected a non-empty list of messages", msgs_node, "prompt.messages")
    messages = []
    for i, msg in enumerate(msgs_node.value):
        mm = _mapping(ctx, msg, f"prompt.messages[{i}]")
        if "content" not in mm:
            raise ctx.error("a message needs 'content'", msg, f"prompt.messages[{i}]")
        role = _str(ctx, mm["role"][1], f"prompt.messages[{i}].role") if "role" in mm else "user"
        if role not in ("system", "user", "assistant"):
            raise ctx.error(
                "role must be system, user or assistant",
                mm["role"][1],
                f"prompt.messages[{i}].role",
            )
        messages.append({"role": role, "content": str(_value(mm["content"][1]))})
    data = {k: _value(v) for k, (_, v) in m.items() if k != "messages"}
    fmt = str(data.get("format", "yaml"))
    if fmt not in ("yaml", "json"):
        raise ctx.error("format must be yaml or json", m["format"][1], "prompt.format")
    schema = data.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise ctx.error("schema must be a mapping (JSON Schema)", m["schema"][1], "prompt.schema")
    if schema is not None:
        try:  # checked here, naming the line: never a URL fetched or a file read at run time
            compile_schema(schema)
        except (ValueError, SchemaError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise ctx.error(
                f"not a valid JSON Schema: {message}", m["schema"][1], "prompt.schema"
            ) from None
    return PromptTemplate(
        name=str(data.get("name") or base.name),
        version=str(data.get("version", "1")),
        messages=tuple(messages),
        schema=schema,
        format=fmt,
        hints=tuple(str(h) for h in data.get("hints") or ()),
        include_format_instructions=bool(data.get("include_format_instructions", True)),
    )


def _matrix(
    ctx: _Ctx, node: yaml.Node, base: Path, prompt: PromptTemplate, model: str
) -> tuple[tuple[tuple[str, PromptTemplate], ...], tuple[str, ...]]:
    """``matrix: {prompts: [...], models: [...]}``: labelled prompts and model names."""
    m = _mapping(ctx, node, "matrix")
    _unknown(ctx, m, {"prompts", "models"}, "matrix")
    prompts: list[tuple[str, PromptTemplate]] = []
    pnode = m["prompts"][1] if "prompts" in m else None
    if pnode is not None and (not isinstance(pnode, yaml.SequenceNode) or not pnode.value):
        raise ctx.error("expected a non-empty list of prompts", pnode, "matrix.prompts")
    for i, item in enumerate(pnode.value if pnode is not None else ()):
        where = f"matrix.prompts[{i}]"
        if isinstance(item, yaml.MappingNode):
            im = _mapping(ctx, item, where)
            _unknown(ctx, im, {"label", "prompt"}, where)
            if "label" not in im or "prompt" not in im:
                raise ctx.error("expected {label: NAME, prompt: TEMPLATE}", item, where)
            label, ref = _str(ctx, im["label"][1], f"{where}.label"), im["prompt"][1]
        else:
            ref = item
            label = Path(_str(ctx, item, where)).name.removesuffix(".yaml").removesuffix(".yml")
        if isinstance(ref, yaml.ScalarNode) and (base / str(ref.value)).is_file():
            ref = yaml.ScalarNode(ref.tag, str(base / str(ref.value)), ref.start_mark, ref.end_mark)
        if not _ID.match(label) or label in {p[0] for p in prompts}:
            raise ctx.error(
                f"label {label!r}: not unique, or not letters, digits, _ . -", item, where
            )
        prompts.append((label, _prompt(ctx, ref, base)))
    if not prompts:
        prompts = [("prompt", prompt)]
    models: list[str] = [model]
    if "models" in m:
        mnode = m["models"][1]
        if not isinstance(mnode, yaml.SequenceNode) or not mnode.value:
            raise ctx.error("expected a non-empty list of model names", mnode, "matrix.models")
        models = [_str(ctx, x, f"matrix.models[{i}]") for i, x in enumerate(mnode.value)]
        if len(set(models)) != len(models):
            raise ctx.error("a model is named twice", mnode, "matrix.models")
    return tuple(prompts), tuple(models)


def _reducer(ctx: _Ctx, m: dict[str, tuple[yaml.Node, yaml.Node]], field: str, default: str) -> str:
    if "reducer" not in m:
        return default
    node = m["reducer"][1]
    try:
        return parse_reducer(_value(node))
    except SuiteError as exc:
        raise ctx.error(exc.reason, node, field) from None


def _case(
    ctx: _Ctx, node: yaml.Node, i: int, prompt: PromptTemplate, reducer: str = DEFAULT_REDUCER
) -> Case:
    where = f"cases[{i}]"
    m = _mapping(ctx, node, where)
    _unknown(ctx, m, _CASE_KEYS, where)
    if "id" not in m:
        raise ctx.error("a case needs an 'id'", node, where)
    case_id = _str(ctx, m["id"][1], f"{where}.id")
    if not _ID.match(case_id):
        raise ctx.error(
            "an id is letters, digits, '_', '.', '-' (it names the cassette file)",
            m["id"][1],
            f"{where}.id",
        )
    vars_: dict[str, Any] = {}
    if "vars" in m:
        vnode = m["vars"][1]
        _mapping(ctx, vnode, f"{where}.vars")
        vars_ = dict(_value(vnode))
    missing = prompt.variables - set(vars_)
    if missing:
        raise ctx.error(
            f"no value for {', '.join(sorted(missing))}",
            m.get("vars", (None, node))[1],
            f"{where}.vars",
        )
    tags: tuple[str, ...] = ()
    if "tags" in m:
        tnode = m["tags"][1]
        if not isinstance(tnode, yaml.SequenceNode):
            raise ctx.error("expected a list of tags", tnode, f"{where}.tags")
        tags = tuple(_str(ctx, t, f"{where}.tags") for t in tnode.value)
    repeat = 1
    if "repeat" in m:
        rnode = m["repeat"][1]
        if not (
            isinstance(rnode, yaml.ScalarNode)
            and rnode.value.isdigit()
            and 1 <= int(rnode.value) <= 1000
        ):
            raise ctx.error("expected a whole number from 1 to 1000", rnode, f"{where}.repeat")
        repeat = int(rnode.value)
    scorers = _scorers(ctx, m["scorers"][1], f"{where}.scorers") if "scorers" in m else ()
    expected = _value(m["expected"][1]) if "expected" in m else None
    reducer = _reducer(ctx, m, f"{where}.reducer", reducer)
    line = node.start_mark.line + 1
    return Case(case_id, vars_, expected, tags, repeat, scorers, line, reducer=reducer)


def _file_case(
    where: str, line: int, raw: dict[str, Any], prompt: PromptTemplate, reducer: str
) -> Case:
    """A case read from a ``.jsonl``/``.csv`` file, checked as an inline case is."""

    def error(message: str, field: str) -> SuiteError:
        return SuiteError(message, path=where, line=line, field=field)

    case_id = raw.get("id")
    if not isinstance(case_id, str) or not case_id:
        raise error("a case needs an 'id' (a non-empty string)", "id")
    if not _ID.match(case_id):
        raise error("an id is letters, digits, '_', '.', '-' (it names the cassette file)", "id")
    vars_ = raw.get("vars", {})
    if not isinstance(vars_, dict):
        raise error("expected a mapping of template variables", "vars")
    missing = prompt.variables - set(vars_)
    if missing:
        raise error(f"no value for {', '.join(sorted(missing))}", "vars")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise error("expected a list of non-empty strings", "tags")
    repeat = raw.get("repeat", 1)
    if isinstance(repeat, str) and repeat.isdigit():
        repeat = int(repeat)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 1000:
        raise error("expected a whole number from 1 to 1000", "repeat")
    expected = raw.get("expected")
    return Case(case_id, dict(vars_), expected, tuple(tags), repeat, (), line, where, reducer)


def _all_cases(
    ctx: _Ctx,
    cnode: yaml.Node,
    base: Path,
    prompt: PromptTemplate,
    suite_scorers: bool,
    reducer: str,
) -> tuple[Case, ...]:
    """Inline cases and those of the case files named under ``cases:``, ids unique across all."""
    items = [cnode] if isinstance(cnode, yaml.ScalarNode) else cnode.value
    if not isinstance(cnode, yaml.ScalarNode | yaml.SequenceNode) or not items:
        raise ctx.error("expected a non-empty list of cases, or a case file", cnode, "cases")
    cases: list[Case] = []
    id_fields: list[str] = []  # where each id was written, for the duplicate-id error
    for i, item in enumerate(items):
        if not isinstance(item, yaml.ScalarNode):
            case = _case(ctx, item, i, prompt, reducer)
            if not suite_scorers and not case.scorers:
                raise ctx.error(
                    "no scorers for this case (add suite 'scorers' or case 'scorers')",
                    item,
                    f"cases[{i}]",
                )
            cases.append(case)
            id_fields.append(f"cases[{i}].id")
            continue
        name = _str(ctx, item, f"cases[{i}]")
        if not name.lower().endswith(CASE_FILE_SUFFIXES):
            raise ctx.error(
                f"a case file ends in {' or '.join(CASE_FILE_SUFFIXES)}", item, f"cases[{i}]"
            )
        if not suite_scorers:
            raise ctx.error("cases from a file need suite-wide 'scorers'", item, f"cases[{i}]")
        file = Path(name) if Path(name).is_absolute() else base / name
        from_file = [
            _file_case(w, line, raw, prompt, reducer) for w, line, raw in read_case_file(file)
        ]
        cases += from_file
        id_fields += ["id"] * len(from_file)
    seen: dict[str, Case] = {}
    for case, id_field in zip(cases, id_fields, strict=True):
        first = seen.get(case.id)
        if first is not None:
            raise SuiteError(
                f"duplicate case id {case.id!r} (also {first.source or ctx.path}:{first.line})",
                path=case.source or ctx.path,
                line=case.line,
                field=id_field,
            )
        seen[case.id] = case
    return tuple(cases)


def load_suite(path: str | Path) -> Suite:
    """Load and validate a suite file.

    Raises:
        SuiteError: naming the file, line and field of the first problem.
    """
    path = Path(path)
    ctx = _Ctx(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise SuiteError(f"not UTF-8 text (byte at offset {exc.start})", path=str(path)) from None
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SuiteError(
            f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
            path=str(path),
            line=mark.line + 1 if mark else None,
        ) from None
    if root is None:
        raise SuiteError("empty suite file", path=str(path))
    m = _mapping(ctx, root, "")
    _unknown(ctx, m, _SUITE_KEYS, "")
    for required in ("prompt", "cases"):
        if required not in m:
            raise ctx.error(f"a suite needs '{required}'", root, required)
    prompt = _prompt(ctx, m["prompt"][1], path.parent)
    name = _str(ctx, m["name"][1], "name") if "name" in m else path.name.removesuffix(".eval.yaml")
    model: dict[str, Any] = {}
    if "model" in m:
        model = _model(ctx, m["model"][1])
    min_pass = (
        _number(ctx, m["min_pass_rate"][1], "min_pass_rate", 0, 1) if "min_pass_rate" in m else 1.0
    )
    scorers = _scorers(ctx, m["scorers"][1], "scorers") if "scorers" in m else ()
    reducer = _reducer(ctx, m, "reducer", DEFAULT_REDUCER)
    cases = _all_cases(ctx, m["cases"][1], path.parent, prompt, bool(scorers), reducer)
    cassettes = (
        Path(_str(ctx, m["cassettes"][1], "cassettes"))
        if "cassettes" in m
        else Path("cassettes") / name
    )
    if not cassettes.is_absolute():
        # relative to the suite's repository root (the parent of prompts/)
        root_dir = (
            path.resolve().parent.parent
            if path.resolve().parent.name == "prompts"
            else path.resolve().parent
        )
        cassettes = root_dir / cassettes
    baseline: dict[str, Any] = {}
    if "baseline" in m:
        bnode = m["baseline"][1]
        bmap = _mapping(ctx, bnode, "baseline")
        baseline = dict(_value(bnode))
        from llmkit.evals._baseline import BaselineError, validate_baseline_settings

        try:
            validate_baseline_settings(baseline)
        except BaselineError as exc:
            key = str(getattr(exc, "field", "") or "").split(".")[0]
            node = bmap[key][1] if key in bmap else bnode
            raise ctx.error(str(exc), node, f"baseline.{key}" if key else "baseline") from None
    structured = True
    if "structured" in m:
        structured = str(m["structured"][1].value).lower() in ("true", "yes", "on", "1")
    description = str(_value(m["description"][1])) if "description" in m else ""
    prices: dict[str, Price] = {}
    if "prices" in m:
        try:
            prices = load_prices(_value(m["prices"][1]), path.parent, str(path))
        except SuiteError as exc:
            if exc.path != str(path):  # an error inside the shared price file names that file
                raise
            raise ctx.error(exc.reason, m["prices"][1], exc.field) from None
    max_cost = _number(ctx, m["max_cost"][1], "max_cost", 0, 1e9) if "max_cost" in m else None
    matrix_prompts: tuple[tuple[str, PromptTemplate], ...] = ()
    matrix_models: tuple[str, ...] = ()
    if "matrix" in m:
        matrix_prompts, matrix_models = _matrix(
            ctx, m["matrix"][1], path.parent, prompt, str(model.get("name") or "llmkit-sim")
        )
        for label, template in matrix_prompts:
            for case in cases:
                missing = template.variables - set(case.vars)
                if missing:
                    raise ctx.error(
                        f"prompt {label!r} needs {', '.join(sorted(missing))}, which case "
                        f"{case.id!r} does not set",
                        m["matrix"][1],
                        "matrix.prompts",
                    )
    return Suite(
        name=name,
        path=path,
        prompt=prompt,
        cases=cases,
        scorers=scorers,
        model=model,
        min_pass_rate=min_pass,
        cassette_dir=cassettes,
        baseline=baseline,
        structured=structured and prompt.schema is not None,
        description=description,
        prices=prices,
        max_cost=max_cost,
        matrix_prompts=matrix_prompts,
        matrix_models=matrix_models,
    )
