"""Cases from ``.jsonl`` and ``.csv`` files beside inline cases: mapping, file:line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmkit.evals import SuiteError, load_suite

from .helpers import llmkit

SUITE = """\
name: tiny
prompt:
  messages:
    - role: user
      content: "Say {{word}}"
model: {name: m}
scorers:
  - {type: contains, value: hi}
cases:
CASES
"""


def suite_with(tmp_path: Path, cases: str) -> Path:
    path = tmp_path / "tiny.eval.yaml"
    path.write_text(SUITE.replace("CASES", cases))
    return path


def error_of(path: Path) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    return info.value


def test_jsonl_cases_beside_inline_ones_keep_order_and_fields(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "vars": {"word": "hi"}, "expected": {"n": 1}, "tags": ["smoke"]},
        {"id": "b", "vars": {"word": "ho"}, "repeat": 3, "description": "third"},
    ]
    (tmp_path / "more.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    path = suite_with(tmp_path, "  - {id: inline, vars: {word: x}}\n  - more.jsonl")
    suite = load_suite(path)
    assert [c.id for c in suite.cases] == ["inline", "a", "b"]
    a, b = suite.cases[1], suite.cases[2]
    assert a.vars == {"word": "hi"} and a.expected == {"n": 1} and a.tags == ("smoke",)
    assert (a.source, a.line) == (str(tmp_path / "more.jsonl"), 1)
    assert b.repeat == 3 and b.line == 2


def test_a_case_file_alone_as_the_cases_value(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_text('{"id": "only", "vars": {"word": "hi"}}\n')
    assert [c.id for c in load_suite(suite_with(tmp_path, "  c.jsonl")).cases] == ["only"]


def test_csv_columns_map_to_id_vars_expected_tags(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text(
        "id,word,vars.extra,expected.priority,expected.who.name,tags,repeat\n"
        "one,hi,NO,high,Ann,smoke|billing,2\n"
        '"two","multi\nline",x,,,,\n'
    )
    suite = load_suite(suite_with(tmp_path, "  - c.csv"))
    one, two = suite.cases
    assert one.vars == {"word": "hi", "extra": "NO"}  # text stays text: NO is not False
    assert one.expected == {"priority": "high", "who": {"name": "Ann"}}
    assert one.tags == ("smoke", "billing") and one.repeat == 2
    assert two.vars["word"] == "multi\nline" and two.expected is None and two.line == 3


def test_csv_expected_json_cell(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text('id,word,expected\none,hi,"{""a"": [1, 2]}"\ntwo,hi,plain\n')
    one, two = load_suite(suite_with(tmp_path, "  - c.csv")).cases
    assert one.expected == {"a": [1, 2]} and two.expected == "plain"


@pytest.mark.parametrize(
    ("name", "content", "line", "field", "reason"),
    [
        ("c.jsonl", '{"id": "a", "vars": {"word": "x"}}\n{"id": "b", ', 2, "", "not JSON"),
        ("c.jsonl", '{"id": "a", "vars": {"word": "x"}}\n\n[1]\n', 3, "", "JSON object"),
        ("c.jsonl", '{"id": "a", "vars": {"word": "x"}, "colour": 1}\n', 1, "colour", "unknown"),
        ("c.jsonl", '{"id": "a b", "vars": {"word": "x"}}\n', 1, "id", "letters, digits"),
        ("c.jsonl", '{"id": "a", "vars": {}}\n', 1, "vars", "no value for word"),
        ("c.jsonl", '{"id": "a", "vars": {"word": "x"}, "repeat": 0}\n', 1, "repeat", "whole"),
        ("c.jsonl", '{"id": "a", "vars": {"word": "x"}, "tags": "t"}\n', 1, "tags", "list"),
        ("c.jsonl", '{"vars": {"word": "x"}}\n', 1, "id", "needs an 'id'"),
        ("c.csv", "id,word\na,x\nb,x,extra\n", 3, "", "3 values for 2 columns"),
        ("c.csv", "id,word,word\na,x,y\n", 1, "", "duplicate column"),
        ("c.csv", 'id,word,expected\na,x,"{oops"\n', 2, "expected", "starts like JSON"),
        ("c.csv", "id,word\n", None, "", "no cases"),
    ],
)
def test_case_file_errors_name_file_and_line(
    tmp_path: Path, name: str, content: str, line: int | None, field: str, reason: str
) -> None:
    (tmp_path / name).write_text(content)
    err = error_of(suite_with(tmp_path, f"  - {name}"))
    assert err.path == str(tmp_path / name)
    assert err.line == line and err.field == field
    assert reason in str(err)
    if line:
        assert f"{name}:{line}:" in str(err)


def test_ids_unique_across_inline_and_file(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_text('{"id": "z", "vars": {"word": "x"}}\n' * 1)
    (tmp_path / "d.csv").write_text("id,word\nq,x\nz,y\n")
    err = error_of(suite_with(tmp_path, "  - {id: q, vars: {word: x}}\n  - c.jsonl\n  - d.csv"))
    assert err.path == str(tmp_path / "d.csv") and err.line == 2
    assert "duplicate case id 'q'" in str(err) and "tiny.eval.yaml:10" in str(err)


def test_missing_or_wrong_kind_of_case_file(tmp_path: Path) -> None:
    err = error_of(suite_with(tmp_path, "  - absent.jsonl"))
    assert "cannot read case file" in str(err) and "absent.jsonl" in str(err)
    err = error_of(suite_with(tmp_path, "  - cases.txt"))
    assert err.field == "cases[0]" and "ends in .jsonl or .csv" in str(err)


def test_file_cases_need_suite_wide_scorers(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_text('{"id": "a", "vars": {"word": "x"}}\n')
    path = suite_with(tmp_path, "  - c.jsonl")
    path.write_text(path.read_text().replace("scorers:\n  - {type: contains, value: hi}\n", ""))
    assert "suite-wide 'scorers'" in str(error_of(path))


def test_cli_reports_file_and_line_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_text('{"id": "a", "vars": {"word": "x"}}\n{"id": 5}\n')
    ran = llmkit("eval", str(suite_with(tmp_path, "  - c.jsonl")))
    assert ran.code == 2
    assert f"{tmp_path / 'c.jsonl'}:2: id:" in ran.err
