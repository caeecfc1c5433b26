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

    YAML is cheaper than indented JSON (what models write unless told otherwise), but
    compact JSON is often as cheap as YAML or cheaper, so both savings are reported.

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

    @property
    def saving_vs_compact(self) -> float:
        """Share of tokens YAML saves against compact JSON; negative when YAML costs more."""
        return 1 - self.yaml / self.json_compact if self.json_compact else 0.0

    @property
    def cheapest(self) -> str:
        """``yaml``, ``json_compact`` or ``json``: the format with the fewest tokens (ties
        go to the earlier one)."""
        counts = {"yaml": self.yaml, "json_compact": self.json_compact, "json": self.json}
        return min(counts, key=lambda k: counts[k])

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, with ``saving``, ``saving_vs_compact`` and ``cheapest``."""
        return {
            **asdict(self),
            "saving": round(self.saving, 4),
            "saving_vs_compact": round(self.saving_vs_compact, 4),
            "cheapest": self.cheapest,
        }

    def summary(self) -> str:
        """One honest line: YAML against both JSON forms."""
        return (
            f"{self.yaml} tokens as YAML, {self.json} as indented JSON, "
            f"{self.json_compact} as compact JSON ({self.encoding}): YAML "
            f"{_against(self.saving)} indented JSON and {_against(self.saving_vs_compact)} "
            "compact JSON"
        )


def _against(saving: float) -> str:
    if round(saving, 2) == 0:
        return "costs the same as"
    if saving > 0:
        return f"saves {saving:.0%} against"
    return f"costs {-saving:.0%} more than"


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
