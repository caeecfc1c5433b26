"""pytest plugin: every ``*.eval.yaml`` pytest is given (or finds under its paths) becomes a
test file with one test per case.

    pytest prompts/support_ticket.eval.yaml            # replay, one test per case
    pytest prompts/ --llmkit-eval-mode record           # record (LLMKIT_BASE_URL)
    pytest prompts/ -k smoke                            # cases tagged smoke

The suite runs once per file (the first of its tests runs it); each test then reports its
case: passed, failed (naming the scorers) or an error (a missing recording, say). The
verdict is ``llmkit eval``'s own (:func:`llmkit.evals.judge_run`): one more test per file,
``gate``, applies ``min_pass_rate`` and the suite's baseline (``baseline: {file: ...}``);
a failing case the gate tolerates is reported as xfailed, not failed; and the session
exits with the CLI's status (2 for a missing recording, 3 when inconclusive).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from llmkit.evals import CaseRun, EvalRun, Verdict

__all__ = [
    "EvalCaseFailed",
    "EvalCaseItem",
    "EvalGateItem",
    "EvalSuiteFile",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_sessionfinish",
]

_GATE = "gate"
# exit statuses of the gates that ran this session (see pytest_sessionfinish)
_GATE_CODES = pytest.StashKey[list[int]]()
# failures of items whose suite's gate is inconclusive (3): if they are all, exit 3
_INCONCLUSIVE_FAILS = pytest.StashKey[int]()


def _count_inconclusive(item: pytest.Item, code: int) -> None:
    if code == 3:
        stash = item.session.stash
        stash[_INCONCLUSIVE_FAILS] = stash.get(_INCONCLUSIVE_FAILS, 0) + 1


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
    _verdict: Verdict | None = None

    def collect(self) -> Any:
        from llmkit.evals import load_suite

        self.suite = load_suite(self.path)
        for case in self.suite.cases:
            yield EvalCaseItem.from_parent(self, name=case.id, case_id=case.id)
        if _GATE not in {c.id for c in self.suite.cases}:
            yield EvalGateItem.from_parent(self, name=_GATE)

    def run(self) -> EvalRun:
        if self._run is None:
            from llmkit.evals import run_suite

            config = self.config
            mode = config.getoption("--llmkit-eval-mode") or config.getini("llmkit_eval_mode")
            self._run = run_suite(self.suite, str(mode))
        return self._run

    def verdict(self) -> Verdict:
        """The CLI's verdict on the run (a bad baseline raises, as the CLI exits 2)."""
        if self._verdict is None:
            from llmkit.evals import judge_run

            self._verdict = judge_run(self.run())
        return self._verdict

    def gate_code(self) -> int:
        """The suite's exit status as the CLI would give it (0 tolerates a failing case)."""
        from llmkit._exceptions import LLMKitError

        try:
            return self.verdict().exit_code
        except LLMKitError:
            return 2

    def outcome(self, case_id: str) -> CaseRun:
        return next(c for c in self.run().cases if c.case.id == case_id)


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
            code = parent.gate_code()
            if code == 0:
                pytest.xfail(
                    f"{'; '.join(failed)} (the suite's gate, min_pass_rate "
                    f"{parent.suite.min_pass_rate:g}, allows it)"
                )
            _count_inconclusive(self, code)
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


class EvalGateItem(pytest.Item):
    """The suite's gate: ``min_pass_rate`` and the baseline, decided as ``llmkit eval`` does."""

    def runtest(self) -> None:
        from llmkit._exceptions import LLMKitError

        parent = self.parent
        assert isinstance(parent, EvalSuiteFile)
        try:
            verdict = parent.verdict()
            code, problems = verdict.exit_code, list(verdict.problems)
        except LLMKitError as exc:
            code, problems = 2, [str(exc)]
        self.session.stash.setdefault(_GATE_CODES, []).append(code)
        _count_inconclusive(self, code)
        if code:
            raise EvalCaseFailed(f"exit status {code}:\n" + "\n".join(problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, EvalCaseFailed):
            return f"suite gate failed, {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "eval suite gate"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Exit as ``llmkit eval`` would: 2 for errors, 3 when inconclusive (0 and 1 as pytest)."""
    codes = session.stash.get(_GATE_CODES, [])
    if not codes:
        return
    worst = 2 if 2 in codes else (1 if 1 in codes else (3 if 3 in codes else 0))
    if exitstatus == 0 and worst:
        session.exitstatus = worst
    elif exitstatus == 1 and worst == 2:
        session.exitstatus = 2
    elif (
        exitstatus == 1
        and worst == 3
        and session.testsfailed == session.stash.get(_INCONCLUSIVE_FAILS, 0)
    ):
        # every failure is an inconclusive suite's: the run is inconclusive, not failed
        session.exitstatus = 3
