"""CLI: `llmkit parse` (one answer, JSON lines) and `llmkit taxonomy`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from llmkit.cli._parse import parse
from llmkit.cli._taxonomy import taxonomy


def test_parse_one(tmp_path: Path) -> None:
    schema = tmp_path / "s.yaml"
    schema.write_text("type: object\nproperties:\n  n: {type: integer}\nrequired: [n]\n")
    r = CliRunner().invoke(parse, ["--schema", str(schema)], input="```yaml\nn: '5'\n```\n")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"n": 5}
    r = CliRunner().invoke(parse, ["--schema", str(schema)], input="n: many")
    assert r.exit_code == 1 and "error" in r.output


def test_parse_jsonl_in_order_with_bad_lines() -> None:
    lines = [
        json.dumps({"text": "a: 1"}),
        "{not json",
        json.dumps({"text": "x: .nan", "schema": {"type": "object"}}),
        json.dumps({"text": '{"a": [1, 2', "finish_reason": "length"}),
        json.dumps({"nope": 1}),
        json.dumps(
            {"text": "n: x", "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}
        ),
    ]
    r = CliRunner().invoke(parse, ["--jsonl"], input="\n".join(lines) + "\n")
    assert r.exit_code == 0, r.output
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["ok"] and out[0]["value"] == {"a": 1} and out[0]["stage"] == "clean"
    assert not out[1]["ok"] and out[1]["value"] is None and out[1]["error"]
    assert out[2]["value"] == {"x": None}
    # cut at the token limit: the list may have gone on, so no value is made up
    assert not out[3]["ok"] and out[3]["value"] is None and out[3]["truncated"]
    assert not out[4]["ok"]
    assert not out[5]["ok"] and out[5]["stage"] == "failed"
    for o in out:
        assert set(o) >= {"ok", "value", "stage", "repairs", "error"}


def test_taxonomy_cli(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        "\n".join(json.dumps({"text": t}) for t in ["title: a: b", "title: ok", "x: [1"]) + "\n"
    )
    r = CliRunner().invoke(taxonomy, [str(path), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["total"] == 3 and data["rules"]["quote_colon_value"] == 1
    r = CliRunner().invoke(taxonomy, [str(path)])
    assert r.exit_code == 0 and "quote_colon_value" in r.output
