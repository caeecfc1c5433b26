"""Regressions from review: bad schemas in the CLI, YAML 1.2 schema files, auto format,
booleans, non-finite numbers, and the taxonomy's skipped lines."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmkit.cli._parse import parse as parse_cli
from llmkit.cli._taxonomy import taxonomy as taxonomy_cli
from llmkit.structured import load_schema, parse, taxonomy_from_jsonl

ERROR_KEYS = {"ok": False, "value": None, "stage": "failed", "repairs": []}


def _jsonl(lines: list[str], *args: str) -> list[dict[str, Any]]:
    r = CliRunner().invoke(parse_cli, ["--jsonl", *args], input="\n".join(lines) + "\n")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    return [json.loads(line) for line in r.stdout.splitlines()]


# --- 2. one output line per input line, whatever the line holds ----------------------


def test_jsonl_bad_per_line_schema_gives_an_error_line_and_goes_on() -> None:
    out = _jsonl(
        [
            json.dumps({"text": "a: 1"}),
            json.dumps({"text": "a: 1", "schema": {"type": "nonsense"}}),
            json.dumps({"text": "x: 2"}),
        ]
    )
    assert len(out) == 3
    assert out[0]["value"] == {"a": 1} and out[2]["value"] == {"x": 2}
    bad = out[1]
    assert {k: bad[k] for k in ERROR_KEYS} == ERROR_KEYS
    assert bad["error"].startswith("bad schema: ") and "type" in bad["error"]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("[1, 2]", "JSON object"),
        ('"text"', "JSON object"),
        ("null", "JSON object"),
        (json.dumps({"text": 5}), "'text' must be a string"),
        (json.dumps({"text": ["a: 1"]}), "'text' must be a string"),
        (json.dumps({"schema": {}}), "'text' must be a string"),
        (json.dumps({"text": "a: 1", "schema": [1]}), "bad schema: must be an object"),
        (json.dumps({"text": "a: 1", "schema": "object"}), "bad schema: must be an object"),
        (json.dumps({"text": "a: 1", "schema": {"type": 5}}), "bad schema: "),
        (json.dumps({"text": "a: 1", "schema": {"$ref": "#/nowhere"}}), "could not parse"),
        ("{not json", "malformed input line"),
        ('{"text": "a: 1"} trailing', "malformed input line"),
    ],
)
def test_jsonl_every_bad_line_is_answered(line: str, needle: str) -> None:
    out = _jsonl([json.dumps({"text": "a: 1"}), line, json.dumps({"text": "b: 2"})])
    assert len(out) == 3, out
    assert out[0]["value"] == {"a": 1} and out[2]["value"] == {"b": 2}
    assert {k: out[1][k] for k in ERROR_KEYS} == ERROR_KEYS
    assert needle in out[1]["error"], out[1]["error"]


def test_jsonl_invalid_utf8_line_is_answered() -> None:
    data = b'{"text": "a: 1"}\n\xff\xfe{"text"\n{"text": "b: 2"}\n'
    r = CliRunner().invoke(parse_cli, ["--jsonl"], input=data)
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["ok"] for o in out] == [True, False, True]
    # every line answered, then exit 2: the input was not text (tests/structured/test_cli.py)
    assert r.exit_code == 2, r.output


def test_jsonl_null_schema_means_the_default(tmp_path: Path) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"properties": {"n": {"type": "integer"}}}))
    out = _jsonl([json.dumps({"text": "n: '3'", "schema": None})], "--schema", str(schema))
    assert out[0]["value"] == {"n": 3}


# --- 3. a bad --schema file is a usage error, not a traceback ------------------------


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"type": "nonsense"}', "not a valid JSON Schema"),
        (b"[1]", "must be a mapping"),
        (b"\xff\xfe", "not UTF-8"),
        (b"a: [\n", "not JSON or YAML"),
        (b"42", "must be a mapping"),
        (b"type: object\nproperties: {a: {type: nonsense}}\n", "properties/a/type"),
        (b"a: 1\n---\nb: 2\n", "several YAML documents"),
    ],
)
@pytest.mark.parametrize("jsonl", [False, True])
def test_bad_schema_file_is_a_clean_usage_error(
    tmp_path: Path, content: bytes, needle: str, jsonl: bool
) -> None:
    path = tmp_path / "bad.schema"
    path.write_bytes(content)
    args = ["--schema", str(path)] + (["--jsonl"] if jsonl else [])
    r = CliRunner().invoke(parse_cli, args, input=json.dumps({"text": "a: 1"}) + "\n")
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    assert str(path) in r.output and needle in r.output, r.output


def test_schema_file_is_compiled_once_for_all_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmkit.structured import _schema

    path = tmp_path / "s.json"
    path.write_text(json.dumps({"type": "object"}))
    calls: list[int] = []
    real = _schema._check_schema  # the meta-schema check: once per compiled schema

    def counting(schema: Any) -> None:
        calls.append(1)
        real(schema)

    monkeypatch.setattr(_schema, "_check_schema", counting)
    out = _jsonl([json.dumps({"text": f"a: {i}"}) for i in range(5)], "--schema", str(path))
    assert [o["value"] for o in out] == [{"a": i} for i in range(5)]
    assert len(calls) == 1


# --- 4. YAML schema files are read as YAML 1.2 ---------------------------------------


def test_yaml_schema_file_is_read_as_yaml_1_2(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "type: object\n"
        "properties:\n"
        "  c: {enum: [NO, SE, DK]}\n"
        "  t: {const: 1:30}\n"
        "  v: {enum: [1.10, yes, on]}\n"
    )
    compiled = load_schema(path.read_bytes())
    props = compiled.schema["properties"]
    assert props["c"]["enum"] == ["NO", "SE", "DK"]
    assert props["t"]["const"] == "1:30"
    assert props["v"]["enum"] == [1.1, "yes", "on"]
    r = CliRunner().invoke(parse_cli, ["--schema", str(path)], input="c: NO\n")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"c": "NO"}


# --- 5. auto format: broken JSON that flow YAML reads is not clean -------------------


@pytest.mark.parametrize(
    ("text", "rule", "value"),
    [
        ('{"a": 1,}', "json_trailing_commas", {"a": 1}),
        ("{'a': 1}", "json_single_quotes", {"a": 1}),
        ("{a: 1}", "json_unquoted_keys", {"a": 1}),
        ('{"a": True}', "json_python_literals", {"a": True}),
        ("[1, 2,]", "json_trailing_commas", [1, 2]),
        ('{"a": "x" # c\n}', "json_comments", {"a": "x"}),
    ],
)
def test_auto_broken_json_read_as_yaml_is_repaired(text: str, rule: str, value: Any) -> None:
    strict = parse(text, None, format="json")
    auto = parse(text, None, format="auto")
    assert auto.value == value == strict.value
    assert auto.stage == "repaired", auto
    assert rule in auto.repairs and rule in strict.repairs
    assert auto.format == "json"


def test_auto_flow_yaml_the_json_rules_cannot_name_is_still_not_clean() -> None:
    r = parse("{a: [b, c d], e: {f: g}}", None, format="auto")
    assert r.ok and r.stage == "repaired" and r.repairs
    assert r.value == {"a": ["b", "c d"], "e": {"f": "g"}}


@pytest.mark.parametrize("text", ['{"a": 1}', "[1, 2]", '{"a": {"b": [true, null, "x # y"]}}'])
def test_auto_valid_json_stays_clean(text: str) -> None:
    r = parse(text, None, format="auto")
    assert r.stage == "clean" and r.repairs == ()
    assert r.value == json.loads(text)


# --- 6. booleans: true/false/yes/no only ---------------------------------------------

BOOL = {"type": "object", "properties": {"b": {"type": "boolean"}}}


@pytest.mark.parametrize("word", ["on", "off", "y", "n", "1", "0", "'1'", "Y", "ON"])
def test_boolean_rejects_other_words(word: str) -> None:
    r = parse(f"b: {word}", BOOL)
    assert r.stage == "failed", r
    assert "coerce_boolean" not in r.repairs


@pytest.mark.parametrize(
    ("word", "value"),
    [("yes", True), ("No", False), ("YES", True), ("'no'", False), ("'True'", True)],
)
def test_boolean_accepts_yes_no_true_false(word: str, value: bool) -> None:
    r = parse(f"b: {word}", BOOL)
    assert r.ok and r.value == {"b": value} and "coerce_boolean" in r.repairs


def test_boolean_json_number_is_not_a_boolean() -> None:
    assert parse('{"b": 1}', BOOL).stage == "failed"
    assert parse('{"b": 0}', BOOL).stage == "failed"


# --- 7. non-finite numbers: kept in value, null in JSON output, with a note ----------


@pytest.mark.parametrize(
    "text", ["a: .nan", "a: .inf", "a: -.inf", '{"a": -Infinity}', '{"a": NaN}']
)
def test_nonfinite_is_kept_in_value_and_noted_in_json(text: str) -> None:
    r = parse(text, None)
    assert r.ok
    assert isinstance(r.value["a"], float) and not math.isfinite(r.value["a"])
    d = r.to_dict()
    assert d["value"] == {"a": None}
    assert "nonfinite_to_null" in d["notes"]
    json.dumps(d, allow_nan=False)


def test_finite_numbers_get_no_note() -> None:
    d = parse("a: 1.5", None).to_dict()
    assert d["value"] == {"a": 1.5} and d["notes"] == []


def test_nonfinite_in_cli_output_is_noted() -> None:
    out = _jsonl([json.dumps({"text": "a: .nan"}), json.dumps({"text": '{"a": Infinity}'})])
    for o in out:
        assert o["value"] == {"a": None} and "nonfinite_to_null" in o["notes"]
    r = CliRunner().invoke(parse_cli, [], input="a: .inf\n")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == {"a": None}
    assert "nonfinite_to_null" in r.stderr


def test_nonfinite_in_pydantic_value_is_noted() -> None:
    import pydantic

    class M(pydantic.BaseModel):
        a: float

    # NaN is no JSON number: a schema that asks for a number does not take it (the value
    # would be written as null)
    r = parse("a: .nan", M)
    assert r.stage == "failed"
    r = parse("a: .nan", None)
    assert r.ok and math.isnan(r.value["a"])
    d = r.to_dict()
    assert d["value"] == {"a": None} and "nonfinite_to_null" in d["notes"]


# --- taxonomy: skipped lines are counted and reported --------------------------------


def test_taxonomy_counts_skipped_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"text": "title: ok"}),
                "{not json",
                "[1, 2]",
                json.dumps({"nothing": "here"}),
                json.dumps({"text": "a: 1", "schema": {"type": "nonsense"}}),
                json.dumps({"stage": "repaired", "repairs": 5}),
                "",
            ]
        )
        + "\n"
    )
    report = taxonomy_from_jsonl(path)
    assert report.total == 2 and report.skipped == 4
    assert report.to_dict()["skipped"] == 4
    r = CliRunner().invoke(taxonomy_cli, [str(path), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["skipped"] == 4
    r = CliRunner().invoke(taxonomy_cli, [str(path)])
    assert r.exit_code == 0 and "4 input line(s) skipped" in r.output
