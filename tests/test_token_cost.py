"""``token_cost`` reports YAML against both JSON forms, so a saving is never overstated."""

from __future__ import annotations

import json

import pytest
import yaml

from llmkit.structured import token_cost
from llmkit.structured._cost import TokenCost

TICKET = {
    "title": "My laptop arrived broken",
    "priority": "high",
    "escalate": True,
    "customer": {"name": "Ann Lee", "email": "ann.lee@example.com"},
    "order_id": "ORD-123456",
    "tags": ["shipping", "refund"],
    "address": {
        "street": "12 Main St",
        "city": "Springfield",
        "postal_code": "1234",
        "country": "US",
    },
}


def test_counts_match_the_three_texts() -> None:
    from llmkit._tokens import count_tokens

    cost = token_cost(TICKET)
    compact = json.dumps(TICKET, separators=(",", ":"))
    assert cost.json_compact == count_tokens(compact, "cl100k_base")
    assert cost.json == count_tokens(json.dumps(TICKET, indent=2), "cl100k_base")
    assert cost.yaml == count_tokens(yaml.safe_dump(TICKET, sort_keys=False), "cl100k_base")


def test_a_flat_ticket_is_cheaper_as_compact_json_and_the_report_says_so() -> None:
    cost = token_cost(TICKET)
    assert cost.json_compact < cost.yaml < cost.json
    assert cost.saving > 0.25  # against indented JSON, YAML wins
    assert cost.saving_vs_compact < 0  # against compact JSON it does not
    assert cost.cheapest == "json_compact"
    data = cost.to_dict()
    assert data["saving_vs_compact"] == pytest.approx(1 - cost.yaml / cost.json_compact, abs=1e-4)
    assert data["cheapest"] == "json_compact"
    line = cost.summary()
    assert f"{cost.json_compact} as compact JSON" in line and "more than compact JSON" in line


@pytest.mark.parametrize(
    ("cost", "phrase"),
    [
        (TokenCost(80, 120, 100, "x"), "saves 20% against compact JSON"),
        (TokenCost(100, 120, 100, "x"), "costs the same as compact JSON"),
        (TokenCost(110, 120, 100, "x"), "costs 10% more than compact JSON"),
    ],
)
def test_summary_wording(cost: TokenCost, phrase: str) -> None:
    assert phrase in cost.summary()
    assert "saves" in cost.summary().split(" and ")[0]
