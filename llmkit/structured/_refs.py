"""Schema references stay inside the schema: never the network, never the disk.

Both validators resolve a ``$ref`` they do not hold by fetching it: ``{"$ref":
"http://host/s.json"}`` sent a GET, ``file:///…`` read a file (and the error then showed
its content), and so did a ``$schema`` naming an unknown meta-schema. A schema is
untrusted input (a ``parse --jsonl`` line, an eval suite), so every reference is checked
before any validator sees the schema: it must point inside the schema itself, to a
fragment (``#/$defs/x``, ``#anchor``) or to a resource the schema embeds with ``$id``.
The walk is iterative and bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

__all__ = ["MAX_SCHEMA_NODES", "SchemaRefError", "check_refs", "embed_ref_files"]

MAX_SCHEMA_NODES = 200_000
_REF_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
_KNOWN_META = frozenset(
    f"{scheme}://json-schema.org/{path}"
    for scheme in ("http", "https")
    for path in (
        "draft-03/schema",
        "draft-04/schema",
        "draft-06/schema",
        "draft-07/schema",
        "draft/2019-09/schema",
        "draft/2020-12/schema",
    )
)


if TYPE_CHECKING:
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped,unused-ignore]

    class SchemaRefError(SchemaError, ValueError):  # type: ignore[misc]
        """A schema refers outside itself (a URL, a file, an unknown meta-schema)."""


@cache
def _error_class() -> type[Exception]:
    # jsonschema's SchemaError (importing it imports all of jsonschema, ~45 ms): made
    # with the first refusal, so checking a schema that stays inside itself never pays
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped,unused-ignore]

    class SchemaRefError(SchemaError, ValueError):  # type: ignore[misc]
        """A schema refers outside itself (a URL, a file, an unknown meta-schema)."""

    SchemaRefError.__module__, SchemaRefError.__qualname__ = __name__, "SchemaRefError"
    return SchemaRefError


def __getattr__(name: str) -> Any:
    if name == "SchemaRefError":
        return _error_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _refuse(what: str, ref: str, path: list[str | int], target: str = "") -> Exception:
    where = "/".join(str(p) for p in path) or "the root"
    # only a refusal needs the redactor (and the logging it imports): not the first parse
    from llmkit._redact import redact_text

    shown = repr(redact_text(ref))
    if target and target != ref:
        shown += f" (= {redact_text(target)})"
    return _error_class()(  # type: ignore[call-arg]
        f"{what} {shown} at {where} refers outside the schema; llmkit resolves"
        " only references inside it (#/$defs/..., #anchor, or an embedded $id), never URLs"
        " or files (a local file only when named: ref_files=, --ref-file)",
        path=path,
    )


def check_refs(schema: Any) -> None:
    """Raise :class:`SchemaRefError` unless every reference in ``schema`` stays inside it.

    Raises:
        SchemaRefError: a ``$ref`` (``$dynamicRef``, ``$recursiveRef``) to a resource the
            schema does not embed, a ``$schema`` other than a JSON Schema draft, or a
            schema of more than :data:`MAX_SCHEMA_NODES` nodes; the message names it.
    """
    embedded: set[str] = {""}
    refs: list[tuple[str, str, str, list[str | int]]] = []
    stack: list[tuple[Any, str, list[str | int]]] = [(schema, "", [])]
    seen = 0
    while stack:
        node, base, path = stack.pop()
        seen += 1
        if seen > MAX_SCHEMA_NODES:
            raise _error_class()(f"schema has more than {MAX_SCHEMA_NODES} nodes")
        if isinstance(node, list):
            stack.extend((v, base, [*path, i]) for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        own_id = node.get("$id")
        if isinstance(own_id, str):
            base = urldefrag(urljoin(base, own_id))[0]
            embedded.add(base)
        meta = node.get("$schema")
        if isinstance(meta, str) and meta.rstrip("#") not in _KNOWN_META:
            raise _refuse("$schema", meta, [*path, "$schema"])
        for key in _REF_KEYS:
            ref = node.get(key)
            if isinstance(ref, str):
                refs.append((key, ref, base, [*path, key]))
        # Every mapping is walked, data (enum, const) too: a property may be called "enum".
        stack.extend((v, base, [*path, k]) for k, v in node.items() if isinstance(v, (dict, list)))
    for key, ref, base, path in refs:
        if ref.startswith("#"):
            continue  # a fragment of the resource it sits in
        target = urldefrag(urljoin(base, ref))[0]
        if target not in embedded:
            raise _refuse(key, ref, path, target)


_DATA_KEYS = frozenset(["enum", "const", "examples", "default"])  # values, not schemas
_NAME_MAPS = frozenset(
    ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]
)


def embed_ref_files(
    schema: dict[str, Any], files: Mapping[Path, Any], base: Path | None = None
) -> dict[str, Any]:
    """A copy of ``schema`` that holds ``files`` (path → loaded schema) inside itself.

    The one way a local file enters a schema: the user names it, llmkit reads it, and
    it is embedded under ``$defs``; every reference to it (``"address.json"``,
    ``"address.json#/$defs/zip"``, relative to ``base``, the schema file's path, or to the
    referring file) becomes a fragment of the root (``#/$defs/llmkit_file_0/$defs/zip``),
    which every resolver llmkit uses follows without reading anything. References to
    anything else are left for :func:`check_refs` to refuse.

    >>> s = embed_ref_files({"$ref": "a.json#/$defs/x"},
    ...                     {Path("/s/a.json"): {"$defs": {"x": {"type": "string"}}}},
    ...                     Path("/s/main.json"))
    >>> s["$ref"], s["$defs"]["llmkit_file_0"]
    ('#/$defs/llmkit_file_0/$defs/x', {'$defs': {'x': {'type': 'string'}}})
    """
    import copy

    root_uri = (base or Path.cwd() / "schema.json").absolute().as_uri()
    slots = {path.absolute().as_uri(): f"/$defs/llmkit_file_{n}" for n, path in enumerate(files)}
    root = copy.deepcopy(schema)
    defs = dict(root.get("$defs") or {})
    todo: list[tuple[Any, str, str]] = [(root, root_uri, "")]
    for (path, doc), (uri, slot) in zip(files.items(), slots.items(), strict=True):
        if not isinstance(doc, dict):
            raise _error_class()(f"{path}: a referenced schema must be a mapping")
        embedded = {k: v for k, v in copy.deepcopy(doc).items() if k not in ("$id", "$schema")}
        name = slot.rsplit("/", 1)[1]
        if name in defs:  # never overwrite the schema's own definition
            raise _error_class()(f"the schema already defines $defs/{name}: rename it")
        defs[name] = embedded
        todo.append((embedded, uri, slot))
    root["$defs"] = defs
    for doc, uri, prefix in todo:
        _rewrite(doc, uri, prefix, slots)
    return root


def _rewrite(doc: Any, uri: str, prefix: str, slots: Mapping[str, str]) -> None:
    stack: list[tuple[Any, bool]] = [(doc, False)]  # (node, is a map of names to schemas)
    seen = 0
    while stack:
        node, names = stack.pop()
        seen += 1
        if seen > MAX_SCHEMA_NODES:
            raise _error_class()(f"schema has more than {MAX_SCHEMA_NODES} nodes")
        if isinstance(node, list):
            stack.extend((v, False) for v in node)
            continue
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if not names and isinstance(ref, str):
            if ref.startswith("#"):
                if prefix and (ref == "#" or ref.startswith("#/")):
                    node["$ref"] = "#" + prefix + ref[1:]  # the file's own root, now embedded
            else:
                target, fragment = urldefrag(urljoin(uri, ref))
                slot = slots.get(target)
                if slot is not None and (not fragment or fragment.startswith("/")):
                    node["$ref"] = "#" + slot + fragment
        for key, value in node.items():
            if isinstance(value, (dict, list)) and (names or key not in _DATA_KEYS):
                stack.append((value, not names and key in _NAME_MAPS))
