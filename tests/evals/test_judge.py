"""The model-graded scorer, against the embedded engine playing a judge (a real HTTP server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmkit.annotate import default_rubric
from llmkit.engine import EngineConfig, EngineHandle, start_engine
from llmkit.evals import SuiteError, load_suite, run_suite
from llmkit.evals._judge import Judge
from llmkit.llm import Client

# The engine as a judge: a terse answer gets 2, an apology 1, anything else 4; a pairwise
# request always prefers the first answer shown (a judge with position bias).
JUDGE_SCENARIO = {
    "name": "judge",
    "rules": [
        {
            "name": "pairwise",
            "match": {"user": "(?s)<answer_a>"},
            "answers": ["rating: A\nreason: the first answer reads better"],
        },
        {
            "name": "garbled",
            "match": {"user": "(?s)<answer>\\s*GARBLE"},
            "answers": ["I think it is good!!"],
        },
        {
            "name": "apology",
            "match": {"user": "(?s)<answer>.*[Ss]orry.*</answer>"},
            "answers": ["```yaml\nrating: 1\nreason: apologises instead of helping\n```"],
        },
        {
            "name": "terse",
            "match": {"user": "(?s)<answer>\\s*\\S+( \\S+){0,3}\\s*</answer>"},
            "answers": ["rating: '2'\nreason: a bare verdict without reasons"],
        },
        {
            "name": "fine",
            "match": {"user": "(?s)<answer>"},
            "answers": ["rating: 4\nreason: helps fully with the request"],
        },
        {"name": "model-under-test", "match": {"any": "."}, "answers": ["{{echo 12}}"]},
    ],
}


def start_judge_engine(tmp_path: Path) -> EngineHandle:
    """The embedded engine answering as :data:`JUDGE_SCENARIO` (stop it when done)."""
    path = tmp_path / "judge-scenario.yaml"
    path.write_text(yaml.safe_dump(JUDGE_SCENARIO))
    return start_engine(
        EngineConfig.zero_delay(scenario=path, aliases=("judge-model", "model-under-test"))
    )


@pytest.fixture
def judge_engine(tmp_path: Path) -> Iterator[EngineHandle]:
    handle = start_judge_engine(tmp_path)
    yield handle
    handle.stop()


@pytest.fixture
def client(judge_engine: EngineHandle) -> Iterator[Client]:
    with Client(judge_engine.base_url, "k", "judge-model") as c:
        yield c


def test_the_prompt_carries_the_rubric_and_the_schema() -> None:
    judge = Judge(default_rubric(), "helpfulness")
    system, user = judge.messages("Am I a good fit?", "You're not a good fit.")
    assert "Could this user act on the answer?" in system["content"]  # the guideline
    assert "5: Helps fully and anticipates the next step" in system["content"]  # the scale
    assert "Rating: 1 (A verdict without reasons" in system["content"]  # a worked example
    assert "<answer>\nYou're not a good fit.\n</answer>" in user["content"]
    assert "rating:" in user["content"] and "reason:" in user["content"]
    assert judge.schema()["properties"]["rating"]["enum"] == [1, 2, 3, 4, 5]
    assert judge.passing == {"4", "5"}


def test_grade_parses_rating_and_reason(client: Client) -> None:
    judge = Judge(default_rubric(), "helpfulness")
    v = judge.grade(client, "Can I return shoes?", "Yes: open Orders, pick them, choose Return.")
    assert (v.rating, v.score, v.passed, v.stage) == ("4", 0.75, True, "clean")
    assert v.reason == "helps fully with the request"
    terse = judge.grade(client, "Am I a good fit?", "No.")
    assert (terse.rating, terse.score, terse.passed) == ("2", 0.25, False)
    fenced = judge.grade(client, "Where is my order?", "Sorry, I cannot look that up today.")
    assert (fenced.rating, fenced.stage) == ("1", "repaired")  # the fence was stripped


def test_an_unreadable_judge_answer_fails_with_why(client: Client) -> None:
    v = Judge(default_rubric(), "helpfulness").grade(client, "q", "GARBLE garble garble garble")
    assert v.rating is None and not v.passed and v.score == 0.0
    assert v.error is not None and v.error.startswith("unreadable judge answer")


def test_binary_dimension_passes_unless_flagged(client: Client) -> None:
    judge = Judge(default_rubric(), "hallucination")
    assert judge.passing == {"no"}
    assert judge.score_of("yes") == 0.0 and judge.score_of("no") == 1.0


def test_position_swap_exposes_a_biased_pairwise_judge(client: Client, tmp_path: Path) -> None:
    rubric_path = tmp_path / "pair.yaml"
    rubric_path.write_text(
        "name: pair\ndimensions:\n  - key: better\n    title: Better answer\n"
        "    scale: {type: pairwise}\n    guideline: Which answer helps the user more?\n"
    )
    from llmkit.annotate import load_rubric

    judge = Judge(load_rubric(rubric_path), "better", swap=True)
    first, second, consistent = judge.compare_swapped(client, "q", "one answer", "another answer")
    assert first.rating == "A" and second.rating == "B" and not consistent
    verdict = judge.judge_pair(client, "q", "one answer", "another answer")
    assert verdict.rating == "tie" and verdict.reason.startswith("position bias")


def write_suite(tmp_path: Path, scorer: dict[str, Any]) -> Path:
    suite = {
        "name": "judged",
        "prompt": {"messages": [{"role": "user", "content": "{{question}}"}]},
        "model": {"name": "model-under-test", "temperature": 0, "max_tokens": 50},
        "structured": False,
        "min_pass_rate": 0.0,
        "cassettes": str(tmp_path / "cassettes"),
        "scorers": [scorer],
        "cases": [
            {"id": "long", "vars": {"question": "How do I return a pair of shoes I bought?"}},
            {"id": "short", "vars": {"question": "Fit?"}},
        ],
    }
    path = tmp_path / "judged.eval.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def test_judge_calls_are_recorded_and_replayed_with_the_case(
    tmp_path: Path, judge_engine: EngineHandle
) -> None:
    spec = {"type": "judge", "name": "helpful", "dimension": "helpfulness", "pass_at": 3}
    suite = load_suite(write_suite(tmp_path, spec))
    recorded = run_suite(suite, "record", base_url=judge_engine.base_url, api_key="sk-secret")
    live = {r.case: r for r in recorded.records if r.scorer == "helpful"}
    assert live["long"].value["rating"] == "4" and live["long"].passed
    assert live["short"].value["rating"] == "2" and not live["short"].passed
    cassette = (tmp_path / "cassettes" / "long.yaml").read_text()
    assert cassette.count("<answer>") >= 1  # the judge's own request is in the case's cassette
    assert "sk-secret" not in cassette
    judge_engine.stop()  # replay needs no server
    replayed = run_suite(load_suite(write_suite(tmp_path, spec)), "replay")
    again = {r.case: r for r in replayed.records if r.scorer == "helpful"}
    assert {c: (r.score, r.passed, r.value["rating"]) for c, r in again.items()} == {
        c: (r.score, r.passed, r.value["rating"]) for c, r in live.items()
    }


@pytest.mark.parametrize(
    ("spec", "field", "needle"),
    [
        ({"type": "judge"}, "dimension", "needs 'dimension'"),
        ({"type": "judge", "dimension": "charm"}, "dimension", "has no dimension 'charm'"),
        ({"type": "judge", "dimension": "comment"}, "dimension", "free text"),
        (
            {"type": "judge", "dimension": "helpfulness", "pass_at": 9},
            "pass_at",
            "9 is not one of 1, 2, 3, 4, 5",
        ),
        (
            {"type": "judge", "dimension": "helpfulness", "rubric": "nope"},
            "rubric",
            "no rubric named",
        ),
        ({"type": "judge", "dimension": "helpfulness", "temp": 1}, "temp", "unknown option"),
        ({"type": "judge", "dimension": "helpfulness", "swap": "yes"}, "swap", "true or false"),
    ],
)
def test_a_bad_judge_spec_names_file_line_and_field(
    tmp_path: Path, spec: dict[str, Any], field: str, needle: str
) -> None:
    with pytest.raises(SuiteError) as info:
        load_suite(write_suite(tmp_path, spec))
    assert info.value.field.endswith(field), info.value
    assert needle in str(info.value)
    assert str(tmp_path / "judged.eval.yaml") in str(info.value) and info.value.line
