"""Schema references never reach the network or the disk; references inside a schema work.

A recording server stands for any URL a schema could name: it records every request. No path that takes a schema (``parse``, ``load_schema``, ``parse
--jsonl`` lines, an eval suite) may send it anything.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import llmkit
from llmkit.cli._main import cli
from llmkit.structured import load_schema, parse
from llmkit.structured._refs import MAX_SCHEMA_NODES, SchemaRefError, check_refs


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - reset by the fixture

    def do_GET(self) -> None:
        self.requests.append(self.path)  # what is answered does not matter: nothing may ask
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    # poll every 50 ms: shutdown() waits out one poll (0.5 s by default)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        assert _Recorder.requests == [], f"a schema reached the network: {_Recorder.requests}"


@pytest.fixture
def local_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"type": "string", "description": "FILE-CONTENT"}))
    return path


def _outside(recorder: str, local_file: Path) -> list[dict[str, object]]:
    return [
        {"$ref": f"{recorder}/s.json"},
        {"type": "object", "properties": {"a": {"$ref": f"{recorder}/s.json#/x"}}},
        {"type": "object", "properties": {"a": {"$ref": local_file.as_uri()}}},
        {"$id": f"{recorder}/root.json", "properties": {"a": {"$ref": "other.json"}}},
        {"$defs": {"a": {"$dynamicRef": f"{recorder}/d.json"}}},
        {"$schema": f"{recorder}/meta.json", "type": "object"},
        {"type": "object", "properties": {"enum": {"$ref": f"{recorder}/e.json"}}},
    ]


def test_parse_refuses_references_outside_the_schema_naming_them(
    recorder: str, local_file: Path
) -> None:
    for schema in _outside(recorder, local_file):
        with pytest.raises(SchemaRefError) as info:
            parse("a: 1", schema)
        message = str(info.value)
        assert "refers outside the schema" in message
        assert "CONTENT" not in message  # nothing was read, so nothing is shown
        assert recorder in message or local_file.name in message


def test_load_schema_refuses_them_as_a_bad_schema(recorder: str, local_file: Path) -> None:
    for schema in _outside(recorder, local_file):
        with pytest.raises(ValueError, match="refers outside the schema"):
            load_schema(json.dumps(schema))


def test_a_jsonl_line_with_a_remote_ref_fails_alone(recorder: str) -> None:
    lines = [
        {"text": "a: 1", "schema": {"$ref": f"{recorder}/s.json"}},
        {"text": "a: 1", "schema": {"type": "object"}},
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    ran = CliRunner().invoke(cli, ["parse", "--jsonl"], input=stdin)
    out = [json.loads(line) for line in ran.stdout.splitlines()]
    assert len(out) == 2
    assert "refers outside the schema" in json.dumps(out[0])
    assert out[1]["value"] == {"a": 1}


def test_an_eval_suite_with_a_remote_ref_is_refused_at_load(recorder: str, tmp_path: Path) -> None:
    from llmkit.evals import load_suite

    suite = tmp_path / "s.eval.yaml"
    suite.write_text(
        "name: s\nprompt:\n  messages: [{role: user, content: hi}]\n"
        f"  schema: {{$ref: '{recorder}/s.json'}}\n"
        "model: {name: m}\nscorers: [schema_valid]\ncases:\n  - {id: one}\n"
    )
    with pytest.raises(llmkit.ConfigError) as info:
        load_suite(suite)
    assert "refers outside the schema" in str(info.value) and "s.eval.yaml" in str(info.value)


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}},
        {"$defs": {"n": {"$anchor": "num", "type": "integer"}}, "properties": {"a": {"$ref": "#num"}}},
        {"$id": "https://example.com/root.json", "$defs": {"n": {"$id": "n.json", "type": "integer"}},
         "properties": {"a": {"$ref": "n.json"}}},
        {"$schema": "https://json-schema.org/draft/2020-12/schema",
         "properties": {"a": {"$ref": "#/$defs/n"}}, "$defs": {"n": {"type": "integer"}}},
        {"properties": {"a": {"$ref": "#"}}},
    ],
)  # fmt: skip
def test_references_inside_the_schema_still_work(recorder: str, schema: dict[str, object]) -> None:
    result = parse("a: 1", schema)
    assert result.ok and result.value == {"a": 1}


def test_a_pydantic_model_with_defs_is_unaffected() -> None:
    from pydantic import BaseModel

    class Inner(BaseModel):
        n: int

    class Outer(BaseModel):
        inner: Inner

    assert parse("inner: {n: 2}", Outer).ok


@pytest.mark.slow
def test_the_walk_is_bounded() -> None:
    wide = {
        "type": "object",
        "properties": {f"p{i}": {"type": "string"} for i in range(MAX_SCHEMA_NODES)},
    }
    with pytest.raises(SchemaRefError, match="more than"):
        check_refs(wide)


# --- local files the user names explicitly (ref_files=, parse --ref-file) -------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """main.json refers to address.yaml (a whole file and one of its $defs)."""
    (tmp_path / "main.json").write_text(
        json.dumps(
            {
                "type": "object",
                "required": ["home"],
                "properties": {
                    "home": {"$ref": "address.yaml"},
                    "zip": {"$ref": "address.yaml#/$defs/zip"},
                    "kind": {"enum": ["house", "flat"]},
                },
            }
        )
    )
    (tmp_path / "address.yaml").write_text(
        "type: object\nrequired: [city]\nproperties:\n  city: {type: string}\n"
        "  zip: {$ref: '#/$defs/zip'}\n"
        '$defs:\n  zip: {type: string, pattern: "^[0-9]{5}$"}\n'
    )
    (tmp_path / "unnamed.json").write_text(json.dumps({"type": "string"}))
    return tmp_path


def _load(tree: Path, *refs: str) -> object:
    return load_schema(
        (tree / "main.json").read_text(),
        ref_files=[tree / r for r in refs],
        base=tree / "main.json",
    )


def test_a_named_local_file_resolves_and_types_the_answer(tree: Path, recorder: str) -> None:
    schema = _load(tree, "address.yaml")
    got = parse("home:\n  city: Oslo\n  zip: 00150\nzip: 01234\nkind: house", schema)
    # zip is a string by the file's own $defs: YAML's 1234 never happens
    assert (got.stage, got.value) == (
        "clean",
        {"home": {"city": "Oslo", "zip": "00150"}, "zip": "01234", "kind": "house"},
    )
    assert parse("home:\n  town: Oslo", schema).stage == "failed"  # the file's `required`
    assert parse("home: {city: Oslo}\nzip: 12", schema).stage == "failed"  # its pattern


def test_a_reference_to_a_file_not_named_is_refused_naming_it(tree: Path) -> None:
    with pytest.raises(ValueError, match=r"address\.yaml.*refers outside the schema"):
        _load(tree)
    (tree / "main.json").write_text(json.dumps({"$ref": "unnamed.json"}))
    with pytest.raises(ValueError, match=r"unnamed\.json"):
        _load(tree, "address.yaml")


def test_urls_stay_refused_whatever_files_are_named(tree: Path, recorder: str) -> None:
    (tree / "main.json").write_text(
        json.dumps({"properties": {"a": {"$ref": "address.yaml"}, "b": {"$ref": recorder}}})
    )
    with pytest.raises(ValueError, match="refers outside the schema"):
        _load(tree, "address.yaml")


def test_a_named_file_that_cannot_be_read_or_parsed_is_named(tree: Path) -> None:
    (tree / "broken.json").write_text("{: nope")
    with pytest.raises(ValueError, match=r"broken\.json: not JSON or YAML"):
        _load(tree, "broken.json")
    with pytest.raises(ValueError, match=r"absent\.json: cannot be read"):
        _load(tree, "absent.json")


def test_parse_ref_file_on_the_command_line(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    run = CliRunner().invoke(
        cli,
        ["parse", "--schema", "main.json", "--ref-file", "address.yaml"],
        input="home: {city: Oslo}\nzip: 01234\n",
    )
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout) == {"home": {"city": "Oslo"}, "zip": "01234"}
    refused = CliRunner().invoke(cli, ["parse", "--schema", "main.json"], input="home: {}\n")
    assert refused.exit_code == 2 and "--ref-file" in refused.stderr
