"""A custom scorer's module is found beside its suite, without ``PYTHONPATH=.``."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from llmkit.evals import load_suite
from llmkit.evals._errors import SuiteError
from llmkit.evals._scorers import ScoreContext, build_scorer

SUITE = """\
name: t
prompt: {{messages: [{{role: user, content: "{{{{q}}}}"}}]}}
model: {{name: m}}
structured: false
scorers:
  - {{type: custom, name: polite, function: "{module}:polite"}}
cases:
  - {{id: one, vars: {{q: hi}}}}
"""


@pytest.mark.parametrize("where", ["beside the suite", "above the suite"])
def test_the_scorer_module_is_found_from_any_directory(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"my_scorers_{uuid.uuid4().hex}"  # fresh: sys.modules keeps what it imported
    (tmp_path / "prompts").mkdir()
    home = tmp_path / "prompts" if where == "beside the suite" else tmp_path
    (home / f"{module}.py").write_text(
        "def polite(ctx):\n    return 'please' in ctx.output.lower()\n", encoding="utf-8"
    )
    suite_path = tmp_path / "prompts" / "t.eval.yaml"
    suite_path.write_text(SUITE.format(module=module), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path_before = list(sys.path)
    try:
        suite = load_suite(suite_path)
        scorer = build_scorer(suite.scorers[0], suite)
        ctx = ScoreContext(
            case=suite.cases[0], output="Please wait", parsed=None, timing={}, suite=suite
        )
        assert scorer(ctx).passed
    finally:
        sys.modules.pop(module, None)
    assert sys.path == path_before  # the folder was on the path only for the import


def test_a_missing_scorer_module_is_a_load_error_at_its_line(tmp_path: Path) -> None:
    suite_path = tmp_path / "t.eval.yaml"
    suite_path.write_text(SUITE.format(module="no_such_scorers_module"), encoding="utf-8")
    with pytest.raises(
        SuiteError, match=r"t\.eval\.yaml:6: .*No module named 'no_such_scorers_module'"
    ):
        load_suite(suite_path)
