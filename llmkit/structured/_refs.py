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

from typing import Any
from urllib.parse import urldefrag, urljoin

from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped,unused-ignore]

from llmkit._redact import redact_text

__all__ = ["MAX_SCHEMA_NODES", "SchemaRefError", "check_refs"]

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


class SchemaRefError(SchemaError, ValueError):  # type: ignore[misc]
    """A schema refers outside itself (a URL, a file, an unknown meta-schema)."""


def _refuse(what: str, ref: str, path: list[str | int], target: str = "") -> SchemaRefError:
    where = "/".join(str(p) for p in path) or "the root"
    shown = repr(redact_text(ref))
    if target and target != ref:
        shown += f" (= {redact_text(target)})"
    return SchemaRefError(  # type: ignore[call-arg]
        f"{what} {shown} at {where} refers outside the schema; llmkit resolves"
        " only references inside it (#/$defs/..., #anchor, or an embedded $id), never URLs"
        " or files",
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
            raise SchemaRefError(f"schema has more than {MAX_SCHEMA_NODES} nodes")
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
