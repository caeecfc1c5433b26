"""``llmkit serve --scenario`` on files that are not scenarios: one line naming the file
(and the line, for YAML errors), exit status 2, never a traceback, nothing started."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmkit.cli._main import cli

CASES = {
    "binary": (b"\x7fELF\x02\x01\x01\x00\xd0\xff\xfe" + bytes(range(256)), r"not UTF-8 text"),
    "nul": (b"rules: []\x00\n", r":1: not valid YAML: unacceptable character #x0000"),
    "broken_yaml": (b"rules:\n  - answers: [unclosed\n  - x: {\n", r":3:\d+: not valid YAML: "),
    "tab_indent": (b"rules:\n\t- answers: hi\n", r":2:1: not valid YAML: "),
    "a_list": (b"- just\n- a list\n", r"a scenario must be a mapping with 'rules'"),
    "empty": (b"", r"a scenario must be a mapping with 'rules'"),
    "rules_not_list": (b"rules: 3\n", r"'rules' must be a non-empty list"),
    "answers_not_text": (b"rules:\n  - answers: 5\n", r"expected a string or a list"),
    "pool_of_lists": (b"pools: {p: [[1, 2]]}\nrules: [{answers: x}]\n", r"pool 'p' must list"),
    "deep": (b"[" * 50_000, r"nested too deeply"),
    "bad_regex": (b"rules: [{match: {user: '('}, answers: x}]\n", r"bad regex"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenario_is_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    data, expected = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--scenario", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: --scenario: {path}")
    assert re.search(expected, lines[0]), lines[0]
    assert "ready on" not in result.stdout


def test_missing_file_and_directory(tmp_path: Path) -> None:
    for target, reason in ((tmp_path / "nope.yaml", "No such file"), (tmp_path, "directory")):
        result = CliRunner().invoke(cli, ["serve", "--scenario", str(target)])
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert str(target) in line and reason in line


def test_binary_scenario_from_the_real_command(tmp_path: Path) -> None:
    path = tmp_path / "image.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    done = subprocess.run(
        [sys.executable, "-m", "llmkit", "serve", "--port", "0", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: --scenario: {path}: not UTF-8 text (byte 0x80 at offset 128); "
        "a scenario is a YAML file"
    ]


@pytest.mark.parametrize("where", ["missing_dir/log.jsonl", "."])
def test_unwritable_send_log_is_one_line_and_exit_2(where: str, tmp_path: Path) -> None:
    target = tmp_path / where
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--send-log", str(target)])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: --send-log: cannot write {target}")


def test_send_log_that_cannot_be_opened_is_a_config_error(tmp_path: Path) -> None:
    from llmkit import ConfigError
    from llmkit.engine import EngineConfig, start_engine

    with pytest.raises(ConfigError, match="cannot write the send log"):
        start_engine(EngineConfig.zero_delay(send_log_path=tmp_path / "no" / "log.jsonl"))
