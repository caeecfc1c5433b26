"""MkDocs hooks: the generated parts of the site, and the docstring gate.

A page asks for generated text with a marker line such as ``<!-- generate: rules -->``;
:func:`on_page_markdown` replaces it with what the code says today, so the reference
cannot drift from the code. :func:`on_config` fails the build when a public name has no
docstring. The generators are plain functions (no MkDocs import) so tests call them too.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

# The packages whose ``__all__`` is the public API (and must carry docstrings).
PUBLIC_MODULES = (
    "llmkit",
    "llmkit.llm",
    "llmkit.timing",
    "llmkit.structured",
    "llmkit.engine",
    "llmkit.bench",
    "llmkit.annotate",
    "llmkit.evals",
    "llmkit.stats",
    "llmkit.prompts",
    "llmkit.extras",
    "llmkit.watch",
)

_MARKER = re.compile(r"^<!-- generate: ([a-z-]+) -->$", re.MULTILINE)


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    """Prose for one Markdown table cell: one line, pipes escaped, no raw HTML outside code."""
    text = " ".join(text.split()).replace("|", "\\|")
    out, last = [], 0
    for match in _CODE_SPAN.finditer(text):
        out += [_escape_html(text[last : match.start()]), match.group(0)]
        last = match.end()
    return "".join([*out, _escape_html(text[last:])])


def _code(text: str) -> str:
    """Inline code for one table cell; newlines shown as ``\\n``, pipes escaped."""
    text = text.replace("\n", "\\n").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def rules_table() -> str:
    """The repair-rule registry: name, phase, what it repairs, its hint, an example."""
    from llmkit.structured import rules

    lines = [
        "| rule | phase | repairs | lossless | prompt hint | broken → fixed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in rules():
        example = ""
        if rule.example is not None:
            broken, fixed = rule.example
            example = f"{_code(broken)} → {_code(fixed)}"
        else:
            example = _cell(rule.doc.splitlines()[0] if rule.doc else "")
        lines.append(
            f"| `{rule.name}` | {rule.phase} | {_cell(rule.error_class)} | "
            f"{'yes' if rule.lossless else 'no'} | {_cell(rule.hint)} | {example} |"
        )
    return "\n".join(lines)


def rubric_schema() -> str:
    """The rubric file format as the JSON Schema its validator enforces."""
    from llmkit.annotate._rubric import _RubricModel

    schema = _RubricModel.model_json_schema()
    return "```json\n" + json.dumps(schema, indent=2, ensure_ascii=False) + "\n```"


def scorer_table() -> str:
    """Every scorer type a suite may name, with the first line of its documentation."""
    from llmkit.evals import registered_scorers
    from llmkit.evals._scorers import _REGISTRY

    lines = ["| type | what it checks |", "| --- | --- |"]
    for name in registered_scorers():
        factory = _REGISTRY.get(name)
        doc = inspect.getdoc(factory) if factory is not None else None
        if not doc:
            raise ValueError(f"scorer {name!r} has no docstring to document it by")
        lines.append(f"| `{name}` | {_cell(doc.split(chr(10) + chr(10))[0])} |")
    return "\n".join(lines)


def suite_format() -> str:
    """The suite file format: the loader's own documentation, its example as YAML."""
    from llmkit.evals import load_suite

    module = inspect.getmodule(load_suite)
    doc = inspect.getdoc(module) or ""
    out: list[str] = []
    in_example = False
    for line in doc.splitlines():
        if line.endswith("::"):
            out += [line[:-1].replace("``", "`"), "", "```yaml"]
            in_example = True
        elif in_example and line and not line.startswith("    "):
            out += ["```", "", line.replace("``", "`")]
            in_example = False
        else:
            out.append(line[4:] if in_example else line.replace("``", "`"))
    if in_example:
        out.append("```")
    return "\n".join(out)


def exit_codes_table() -> str:
    """The exit-code contract every command follows, from the code that applies it."""
    from llmkit.cli._common import EXIT_CODE_MEANINGS

    lines = ["| status | name | meaning |", "| --- | --- | --- |"]
    for code, meaning in EXIT_CODE_MEANINGS.items():
        lines.append(f"| {int(code)} | `{code.name}` | {_cell(meaning)} |")
    return "\n".join(lines)


def facade_table() -> str:
    """``llmkit``'s own names, each linked to its full entry on the API page."""
    import llmkit

    lines = ["| name | what it is |", "| --- | --- |"]
    for name in llmkit.__all__:
        obj = getattr(llmkit, name)
        if name == "__version__":
            lines.append("| `__version__` | the installed version |")
            continue
        home = next(
            (
                m
                for m in (*PUBLIC_MODULES[1:], "llmkit._exceptions")
                if name in getattr(importlib.import_module(m), "__all__", ())
            ),
            None,
        )
        if home is None:
            raise ValueError(f"llmkit.{name} is exported by no documented module")
        summary = (inspect.getdoc(obj) or "").split("\n\n")[0]
        lines.append(f"| [`{name}`](#{home}.{name}) | {_cell(summary)} |")
    return "\n".join(lines)


GENERATORS: dict[str, Callable[[], str]] = {
    "facade": facade_table,
    "rules": rules_table,
    "rubric-schema": rubric_schema,
    "scorers": scorer_table,
    "suite-format": suite_format,
    "exit-codes": exit_codes_table,
}


def render_markers(markdown: str) -> str:
    """Replace every ``<!-- generate: NAME -->`` line by what its generator returns."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise KeyError(f"unknown generated section {name!r} (known: {sorted(GENERATORS)})")
        return GENERATORS[name]()

    return _MARKER.sub(one, markdown)


def _documented(obj: Any) -> bool:
    return bool((inspect.getdoc(obj) or "").strip())


def undocumented_public_names() -> list[str]:
    """Public modules, classes, functions and their public methods without a docstring."""
    missing: list[str] = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        if not _documented(module):
            missing.append(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if obj.__module__.split(".")[0] != "llmkit":
                continue  # re-exported from elsewhere
            if not (obj.__doc__ or "").strip():
                missing.append(f"{module_name}.{name}")
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    func = value.fget if isinstance(value, property) else value
                    if isinstance(func, (staticmethod, classmethod)):
                        func = func.__func__
                    if inspect.isfunction(func) and not (func.__doc__ or "").strip():
                        missing.append(f"{module_name}.{name}.{attr}")
    return sorted(set(missing))


def on_config(config: Any) -> Any:
    """Fail the build when a public name lacks a docstring (its page would be empty)."""
    from mkdocs.exceptions import PluginError

    missing = undocumented_public_names()
    if missing:
        raise PluginError("public names without a docstring: " + ", ".join(missing))
    return config


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Fill the generated sections of a page."""
    return render_markers(markdown)
