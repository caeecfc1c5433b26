"""pytest plugin: every ``*.eval.yaml`` pytest is given (or finds under its paths) becomes a
test file with one test per case.

    pytest prompts/support_ticket.eval.yaml            # replay, one test per case
    pytest prompts/ --llmkit-eval-mode record           # record (LLMKIT_BASE_URL)
    pytest prompts/ -k smoke                            # cases tagged smoke

The suite runs once per file (the first of its tests runs it); each test then reports its
case: passed, failed (naming the scorers) or an error (a missing recording, say).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from llmkit.evals import CaseRun, EvalRun

__all__ = [
    "EvalCaseFailed",
    "EvalCaseItem",
    "EvalSuiteFile",
    "pytest_addoption",
    "pytest_collect_file",
]


class EvalCaseFailed(Exception):
    """A case failed its scorers or could not run."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmkit", "llmkit evaluation suites")
    group.addoption(
        "--llmkit-eval-mode",
        choices=("replay", "record", "live"),
        default=None,
        help="how *.eval.yaml suites run (default: replay, or the ini value llmkit_eval_mode)",
    )
    parser.addini(
        "llmkit_eval_mode", "replay, record or live for *.eval.yaml suites", default="replay"
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith((".eval.yaml", ".eval.yml")):
        collector: pytest.Collector = EvalSuiteFile.from_parent(parent, path=file_path)
        return collector
    return None


class EvalSuiteFile(pytest.File):
    """One suite file; runs the suite once and hands each case's outcome to its test."""

    _run: EvalRun | None = None

    def collect(self) -> Any:
        from llmkit.evals import load_suite

        self.suite = load_suite(self.path)
        for case in self.suite.cases:
            yield EvalCaseItem.from_parent(self, name=case.id, case_id=case.id)

    def outcome(self, case_id: str) -> CaseRun:
        if self._run is None:
            from llmkit.evals import run_suite

            config = self.config
            mode = config.getoption("--llmkit-eval-mode") or config.getini("llmkit_eval_mode")
            self._run = run_suite(self.suite, str(mode))
        return next(c for c in self._run.cases if c.case.id == case_id)


class EvalCaseItem(pytest.Item):
    """One case of a suite."""

    def __init__(self, *, case_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case_id = case_id
        parent = self.parent
        assert isinstance(parent, EvalSuiteFile)
        # tags select with -k (markers would trip --strict-markers)
        self.extra_keyword_matches.update(parent.suite.case(case_id).tags)

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, EvalSuiteFile)
        run = parent.outcome(self.case_id)
        if run.error:
            raise EvalCaseFailed(f"error: {run.error}")
        failed = [f"{r.scorer}[{r.repeat}]: {r.detail}" for r in run.records if not r.passed]
        if failed:
            raise EvalCaseFailed("\n".join(failed))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, EvalCaseFailed):
            return f"case {self.case_id} failed:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        parent = self.parent
        assert isinstance(parent, EvalSuiteFile)
        line = parent.suite.case(self.case_id).line
        return self.path, (line - 1) if line else None, f"eval case {self.case_id}"
