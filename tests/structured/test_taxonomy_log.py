"""taxonomy_from_log takes the log's rows; `llmkit taxonomy --log-path` fails cleanly."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from llmkit.cli._taxonomy import taxonomy as taxonomy_cli
from llmkit.llm import CallLog
from llmkit.structured import taxonomy_from_log

STRUCTURED = Path(__file__).parents[2] / "llmkit" / "structured"

ROWS = [
    {
        "structured_stage": "repaired",
        "structured_repairs": json.dumps(["quote_colon_value"]),
        "structured_error": None,
        "response_text": "title: Note: x",
    },
    {
        "structured_stage": "failed",
        "structured_repairs": "[]",
        "structured_error": "schema: $.n: 'x' is not of type 'integer'",
        "response_text": "n: x",
    },
    {"structured_stage": None, "response_text": "a plain chat call"},
    {"structured_stage": "clean", "structured_repairs": None, "response_text": "a: 1"},
]


def test_structured_never_imports_llm() -> None:
    """`llm` may import `structured`; the reverse would be a cycle."""
    for path in STRUCTURED.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("llmkit.llm"), path.name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("llmkit.llm") for a in node.names), path.name


@pytest.mark.parametrize("as_frame", [False, True])
def test_taxonomy_from_log_rows(as_frame: bool) -> None:
    report = taxonomy_from_log(pd.DataFrame(ROWS) if as_frame else ROWS)
    assert report.total == 3  # the plain chat call is not a structured call
    assert report.stages["repaired"] == 1 and report.stages["failed"] == 1
    assert report.rules == {"quote_colon_value": 1}
    assert report.failures == {"schema mismatch": 1}


def test_taxonomy_from_log_refuses_a_path() -> None:
    with pytest.raises(TypeError, match="read_log"):
        taxonomy_from_log("calls.db")


def test_taxonomy_from_a_real_call_log(tmp_path: Path) -> None:
    db = tmp_path / "calls.db"
    log = CallLog(db)
    log.close()
    r = CliRunner().invoke(taxonomy_cli, ["--log-path", str(db), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["total"] == 0


@pytest.mark.parametrize("content", [b"hello, not a database\n", b"", b"\x00\xff" * 64])
def test_log_path_on_a_non_database_is_one_clean_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    for args in (["--log-path", str(path)], ["--log", "--log-path", str(path)]):
        r = CliRunner().invoke(taxonomy_cli, args)
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output
        assert r.exception is None or isinstance(r.exception, SystemExit)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "is not an llmkit call log" in lines[0], r.stderr
    assert path.read_bytes() == content  # never written to
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no -wal, no -shm


def test_log_path_typo_creates_no_database(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "calsl.db"
    r = CliRunner().invoke(taxonomy_cli, ["--log-path", str(path)])
    assert r.exit_code == 2 and "no call log at" in r.stderr
    assert not path.exists() and not path.parent.exists()


def test_file_and_log_together_is_misuse(tmp_path: Path) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text(json.dumps({"text": "a: 1"}) + "\n")
    r = CliRunner().invoke(taxonomy_cli, [str(f), "--log"])
    assert r.exit_code == 2
