"""Suite files: every validation error names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmkit.evals import SuiteError, load_suite
from llmkit.prompts import list_prompts

from .helpers import llmkit

GOOD = """\
name: tiny
prompt:
  messages:
    - role: user
      content: "Say {{word}}"
model: {name: m, temperature: 0}
scorers:
  - {type: contains, value: hi}
cases:
  - id: one
    vars: {word: hi}
  - id: two
    vars: {word: ho}
    repeat: 2
    tags: [x]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.eval.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        load_suite(write(tmp_path, text))
    return info.value


def test_good_suite_loads(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, GOOD))
    assert [c.id for c in suite.cases] == ["one", "two"]
    assert suite.cases[1].repeat == 2
    assert suite.model_name == "m"
    assert suite.params == {"temperature": 0}
    assert suite.cassette_dir == tmp_path / "cassettes" / "tiny"
    assert [c.id for c in suite.select({"x"})] == ["two"]


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ("    repeat: 2", "    repeat: two", 14, "cases[1].repeat", "whole number"),
        ("    repeat: 2", "    repeat: 0", 14, "cases[1].repeat", "whole number"),
        ("  - id: two", "  - id: one", 12, "cases[1].id", "duplicate case id"),
        ("    vars: {word: ho}", "    vars: {other: ho}", 13, "cases[1].vars", "no value for word"),
        (
            "  - {type: contains, value: hi}",
            "  - {type: nope}",
            8,
            "scorers[0].type",
            "unknown scorer type",
        ),
        (
            "  - {type: contains, value: hi}",
            "  - {type: regex, pattern: '('}",
            8,
            "scorers[0].pattern",
            "regular expression",
        ),
        (
            "  - {type: contains, value: hi}",
            "  - {type: latency, max: 5, metric: rps}",
            8,
            "scorers[0].metric",
            "metric must be",
        ),
        (
            "  - {type: contains, value: hi}",
            "  - {type: contains, value: hi, colour: red}",
            8,
            "scorers[0].colour",
            "unknown option",
        ),
        (
            "  - {type: contains, value: hi}",
            "  - {type: custom, function: nowhere.at_all:fn}",
            8,
            "scorers[0].function",
            "cannot import",
        ),
        ("    tags: [x]", "    tags: [x]\n    colour: red", 16, "cases[1].colour", "unknown key"),
        ("model: {name: m, temperature: 0}", "model: [m]", 6, "model", "expected a mapping"),
        (
            "model: {name: m, temperature: 0}",
            "model: {name: m, temprature: 0}",
            6,
            "model.temprature",
            "did you mean 'temperature'? the chat API defines",
        ),
        (
            "model: {name: m, temperature: 0}",
            "model: {name: m, extra_body: [top_k]}",
            6,
            "model.extra_body",
            "expected a mapping",
        ),
        (
            "model: {name: m, temperature: 0}",
            "min_pass_rate: 1.5",
            6,
            "min_pass_rate",
            "number from 0 to 1",
        ),
        (
            '      content: "Say {{word}}"',
            "      text: hi",
            4,
            "prompt.messages[0]",
            "needs 'content'",
        ),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, words: str
) -> None:
    assert old in GOOD
    err = error_of(tmp_path, GOOD.replace(old, new))
    assert err.path.endswith("tiny.eval.yaml")
    assert (err.line, err.field) == (line, field), str(err)
    assert words in str(err)
    assert str(err).startswith(f"{err.path}:{line}: {field}: ")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, GOOD.replace("    vars: {word: hi}", "    vars: {word: hi"))
    assert err.line is not None and 11 <= err.line <= 13
    assert "not valid YAML" in str(err)


def test_case_without_scorers_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("scorers:\n  - {type: contains, value: hi}\n", "")
    err = error_of(tmp_path, text)
    assert err.field == "cases[0]" and "no scorers" in str(err)


def test_baseline_block_is_checked_at_load(tmp_path: Path) -> None:
    err = error_of(tmp_path, GOOD + "baseline:\n  threshold: 7\n")
    assert err.field == "baseline.threshold"
    assert err.line == 17


def test_cli_reports_a_bad_suite_in_one_line_and_exits_2(tmp_path: Path) -> None:
    ran = llmkit("eval", str(write(tmp_path, GOOD.replace("    repeat: 2", "    repeat: -1"))))
    assert ran.code == 2
    assert ran.err.count("\n") == 1
    assert ":14: cases[1].repeat:" in ran.err
    assert "Traceback" not in ran.err


def test_list_prompts_skips_suites() -> None:
    names = list_prompts()
    assert "support_ticket" in names
    assert not [n for n in names if n.endswith(".eval")]


def test_suite_may_name_a_prompt_template(tmp_path: Path) -> None:
    text = """\
prompt: extract_contact
scorers: [schema_valid]
cases:
  - {id: a, vars: {text: "Ada Lovelace, ada@example.com"}}
"""
    suite = load_suite(write(tmp_path, text))
    assert suite.prompt.name == "extract_contact"
    assert suite.structured


def test_model_parameters_outside_the_chat_api_go_under_extra_body(tmp_path: Path) -> None:
    text = GOOD.replace(
        "model: {name: m, temperature: 0}",
        "model: {name: m, temperature: 0, seed: 3, extra_body: {top_k: 5}}",
    )
    path = tmp_path / "tiny.eval.yaml"
    path.write_text(text)
    suite = load_suite(path)
    assert suite.params == {"temperature": 0, "seed": 3, "extra_body": {"top_k": 5}}
