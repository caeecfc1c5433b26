"""Recursive union schemas shared by the structured tests: where "try every branch" is
exponential unless coercion prunes by type and memoises."""

from __future__ import annotations

from typing import Any

JSON_VALUE: dict[str, Any] = {
    "$defs": {
        "v": {
            "anyOf": [
                {"type": "null"},
                {"type": "boolean"},
                {"type": "number"},
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/$defs/v"}},
                {"type": "object", "additionalProperties": {"$ref": "#/$defs/v"}},
            ]
        }
    },
    "$ref": "#/$defs/v",
}
# two object branches that both recurse: "try every branch" is 2^depth here
TREE: dict[str, Any] = {
    "$defs": {
        "n": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "kids": {"type": "array", "items": {"$ref": "#/$defs/n"}},
                    },
                    "required": ["name"],
                },
                {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kids": {"type": "array", "items": {"$ref": "#/$defs/n"}},
                    },
                    "required": ["id"],
                },
                {"type": "string"},
            ]
        }
    },
    "$ref": "#/$defs/n",
}
