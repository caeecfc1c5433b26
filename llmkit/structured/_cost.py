"""Token cost of a value as YAML and as JSON, with an offline tokenizer."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import yaml

from llmkit._tokens import count_tokens
from llmkit.structured._result import to_jsonable

__all__ = ["TokenCost", "token_cost"]


@dataclass(frozen=True)
class TokenCost:
    """Tokens of one value in each format.

    Attributes:
        yaml: block YAML.
        json: JSON indented by 2 (what models usually write).
        json_compact: JSON without spaces.
        encoding: the tokenizer used.
    """

    yaml: int
    json: int
    json_compact: int
    encoding: str

    @property
    def saving(self) -> float:
        """Share of tokens YAML saves against indented JSON (0.25 = 25 % fewer)."""
        return 1 - self.yaml / self.json if self.json else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, with ``saving``."""
        return {**asdict(self), "saving": round(self.saving, 4)}


def token_cost(
    value: Any = None, schema: Any = None, *, encoding: str = "cl100k_base"
) -> TokenCost:
    """Count the tokens of ``value`` (or an example of ``schema``) as YAML and as JSON.

    Args:
        value: the value; when ``None`` and a schema is given, an example value is used.
        schema: optional schema.
        encoding: ``cl100k_base`` or ``o200k_base`` (bundled, offline).
    """
    if value is None and schema is not None:
        from llmkit.structured._instructions import example_value

        value = example_value(schema)
    plain = to_jsonable(value)
    as_yaml = yaml.safe_dump(
        plain, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10_000
    )
    as_json = json.dumps(plain, indent=2, ensure_ascii=False)
    compact = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    return TokenCost(
        count_tokens(as_yaml, encoding),
        count_tokens(as_json, encoding),
        count_tokens(compact, encoding),
        encoding,
    )
