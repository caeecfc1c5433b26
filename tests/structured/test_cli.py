"""CLI: `llmkit parse` (one answer, JSON lines) and `llmkit taxonomy`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from llmkit.cli._main import cli
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


def test_parse_binary_stdin_is_bad_input_naming_the_byte() -> None:
    """Exit 2 (the input, not the answer, is wrong), one line naming what and where."""
    r = CliRunner().invoke(parse, [], input=b"a: 1\nb: \xff\xfe\n")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.splitlines() == ["error: stdin: not UTF-8 text (byte 0xff at offset 8)"]
    utf16 = "a: 1\n".encode("utf-16")  # a Windows shell's redirect
    r = CliRunner().invoke(parse, [], input=utf16)
    assert r.exit_code == 2 and "stdin: not UTF-8 text (byte 0xff at offset 0)" in r.stderr
    r = CliRunner().invoke(parse, [], input="\ufeffa: 1".encode())  # a UTF-8 BOM is text
    assert r.exit_code == 0 and json.loads(r.stdout) == {"a": 1}


def test_parse_jsonl_answers_every_line_then_exits_2_for_binary_lines() -> None:
    lines = [
        b'{"text": "a: 1"}',
        b"\xff\xfe",
        b"",
        b'{"text": "\xff"}',
        b'\xef\xbb\xbf{"text": "b: 2"}',
    ]
    r = CliRunner().invoke(parse, ["--jsonl"], input=b"\n".join(lines) + b"\n")
    assert r.exit_code == 2
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["ok"] for o in out] == [True, False, False, True]  # never drops a line
    assert out[1]["error"].endswith("stdin line 2: not UTF-8 text (byte 0xff at offset 0)")
    assert "stdin line 4: not UTF-8 text (byte 0xff at offset 10)" in out[2]["error"]
    (err,) = r.stderr.splitlines()
    assert err.startswith("error: stdin line 2: not UTF-8 text") and "2 such lines" in err


def test_parse_schema_file_not_utf8_is_bad_input(tmp_path: Path) -> None:
    schema = tmp_path / "s.json"
    schema.write_bytes(b'{"type": "object", "title": "\xff"}')
    r = CliRunner().invoke(cli, ["parse", "--schema", str(schema)], input="a: 1")
    assert r.exit_code == 2
    (err,) = r.stderr.splitlines()  # as `llmkit parse` prints it: one line
    assert f"{schema}: not UTF-8 text (byte 0xff at offset 29)" in err
