"""Judge calibration against a real SQLite annotation store filled through llmkit.annotate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from llmkit.annotate import Conversation, Store, default_rubric, parse_rubric
from llmkit.cli._main import cli
from llmkit.engine import EngineHandle
from llmkit.evals import load_suite
from llmkit.evals._calibrate import (
    CalibrationError,
    calibrate,
    calibration_path,
    require_calibration,
    save_calibration,
)

from .test_judge import start_judge_engine


@pytest.fixture
def judge_engine(tmp_path: Path) -> Iterator[EngineHandle]:
    """The embedded engine playing a judge."""
    handle = start_judge_engine(tmp_path)
    yield handle
    handle.stop()


# The judge scenario gives: an apology 1, a terse answer (<= 4 words) 2, anything else 4.
ANSWERS = {
    "i01": "Sorry, I cannot help with that today.",
    "i02": "No.",
    "i03": "Open Orders, pick the item and choose Return; the label arrives by mail.",
    "i04": "Yes, within 30 days of delivery, from the Orders page.",
    "i05": "Not a fit.",
    "i06": "Sorry about that, please ask support.",
    "i07": "The warranty covers it: report a problem under Orders and a courier collects it.",
    "i08": "Go to Settings.",
}
# Two raters; their ratings of helpfulness (1..5).
HUMANS = {
    "ada": {"i01": 1, "i02": 2, "i03": 4, "i04": 5, "i05": 1, "i06": 2, "i07": 4, "i08": 2},
    "bob": {"i01": 1, "i02": 2, "i03": 4, "i04": 5, "i05": 1, "i06": 2, "i07": 5, "i08": 3},
}


def fill_store(url: str) -> Store:
    store = Store(url)
    version = store.register_rubric(default_rubric())
    store.add_conversations(
        [
            Conversation(
                item,
                (
                    {"role": "system", "content": "You are the shop's assistant."},
                    {"role": "user", "content": f"Question {item}?"},
                    {"role": "assistant", "content": answer},
                ),
            )
            for item, answer in ANSWERS.items()
        ],
        source="test",
    )
    for rater, values in HUMANS.items():
        store.add_user(rater, "rater", "long-enough-password")
        for item, value in values.items():
            store.rate(
                rater,
                item,
                {"helpfulness": str(value)},
                rubric_id=version.id,
                require_assignment=False,
            )
    return store


def write_suite(tmp_path: Path, **judge: Any) -> Path:
    suite = {
        "name": "judged",
        "prompt": {"messages": [{"role": "user", "content": "{{question}}"}]},
        "model": {"name": "model-under-test", "temperature": 0, "max_tokens": 50},
        "structured": False,
        "cassettes": str(tmp_path / "cassettes"),
        "scorers": [
            {"type": "judge", "name": "helpful", "dimension": "helpfulness", **judge},
            {"type": "contains", "name": "says_something", "value": " "},
        ],
        "cases": [{"id": "one", "vars": {"question": "Where is my order?"}}],
    }
    path = tmp_path / "judged.eval.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'annotate.db'}"
    fill_store(url).close()
    yield url


def consensus(item: str) -> int:
    return int(np.median([HUMANS[r][item] for r in HUMANS]))


def test_calibration_matches_sklearn_and_replays_offline(
    tmp_path: Path, db: str, judge_engine: EngineHandle
) -> None:
    suite = load_suite(write_suite(tmp_path))
    cal = calibrate(
        suite,
        "helpful",
        n_resamples=200,
        db=db,
        mode="record",
        base_url=judge_engine.base_url,
        api_key="sk-x",
    )
    assert cal.n_judged == 8 and cal.unreadable == ()
    assert cal.ratings == {
        "i01": "1",
        "i02": "2",
        "i03": "4",
        "i04": "4",
        "i05": "2",
        "i06": "1",
        "i07": "4",
        "i08": "2",
    }
    (group,) = cal.groups
    # i08 (2 vs 3) and i07 (4 vs 5) have no median point: no consensus, left out and counted
    assert group.current and group.n_ties == 2 and group.n_items == 6 and group.n_raters == 2
    items = [i for i in ANSWERS if i not in ("i07", "i08")]
    human = [consensus(i) for i in items]
    judged = [int(cal.ratings[i] or 0) for i in items]
    ref = cohen_kappa_score(human, judged, weights="quadratic", labels=[1, 2, 3, 4, 5])
    assert group.kappa == pytest.approx(ref, abs=1e-12)
    assert group.stats["cohen_kappa"]["estimate"] == pytest.approx(
        cohen_kappa_score(human, judged, labels=[1, 2, 3, 4, 5]), abs=1e-12
    )
    low, high = group.stats["kappa"]["low"], group.stats["kappa"]["high"]
    assert low is not None and high is not None and low <= group.kappa <= high
    assert (
        group.confusion["matrix"]
        == confusion_matrix(human, judged, labels=[1, 2, 3, 4, 5]).tolist()
    )
    assert group.stats["human_alpha"]["estimate"] is not None
    assert "sk-x" not in "".join(p.read_text() for p in (tmp_path / "cassettes").rglob("*.yaml"))

    judge_engine.stop()  # replay: the same verdicts with no server at all
    again = calibrate(load_suite(write_suite(tmp_path)), "helpful", n_resamples=200, db=db)
    assert again.ratings == cal.ratings and again.groups[0].stats == group.stats


def test_krippendorff_alpha_with_the_judge_matches_the_reference(
    tmp_path: Path, db: str, judge_engine: EngineHandle
) -> None:
    import krippendorff

    suite = load_suite(write_suite(tmp_path))
    cal = calibrate(
        suite, "helpful", n_resamples=200, db=db, mode="live", base_url=judge_engine.base_url
    )
    items = list(ANSWERS)
    matrix = [[HUMANS[r][i] for i in items] for r in HUMANS]
    matrix.append([int(cal.ratings[i] or 0) for i in items])
    ref = krippendorff.alpha(
        reliability_data=np.array(matrix, dtype=float),
        level_of_measurement="ordinal",
        value_domain=[1, 2, 3, 4, 5],
    )
    assert cal.groups[0].stats["krippendorff_alpha"]["estimate"] == pytest.approx(ref, abs=1e-9)
    assert not list((tmp_path / "cassettes").rglob("*.yaml"))  # live writes nothing


def test_results_per_rubric_version(tmp_path: Path, db: str, judge_engine: EngineHandle) -> None:
    # An edited rubric is a new version; ada re-rates two items under it.
    text = (Path(default_rubric().path or "")).read_text()
    edited = parse_rubric(
        text.replace("Could this user act on the answer?", "Can the user act on it?")
    )
    with Store(db) as store:
        v2 = store.register_rubric(edited)
        for item in ("i03", "i04"):
            store.rate("ada", item, {"helpfulness": "4"}, rubric_id=v2.id, require_assignment=False)
    cal = calibrate(
        load_suite(write_suite(tmp_path)),
        "helpful",
        n_resamples=200,
        db=db,
        mode="live",
        base_url=judge_engine.base_url,
    )
    versions = [(g.rubric_version, g.current, g.n_raters) for g in cal.groups]
    assert versions == [(1, True, 2), (2, False, 1), (None, False, 2)]
    assert cal.groups[1].n_items == 2 and cal.groups[1].stats["agreement"]["estimate"] == 1.0
    assert cal.current is cal.groups[0]


def test_require_calibration_gates_the_judge(
    tmp_path: Path, db: str, judge_engine: EngineHandle
) -> None:
    suite = load_suite(write_suite(tmp_path))
    with pytest.raises(CalibrationError, match=r"'helpful' is not calibrated.*llmkit calibrate"):
        require_calibration(suite, 0.5)
    cal = calibrate(
        suite, "helpful", n_resamples=200, db=db, mode="record", base_url=judge_engine.base_url
    )
    path = save_calibration(cal, suite)
    assert path == calibration_path(suite) == tmp_path / "judged.calibration.json"
    stored = json.loads(path.read_text())
    assert stored["format"] == "llmkit.eval.calibration/1"
    assert stored["scorers"]["helpful"]["kappa"] == pytest.approx(cal.kappa)
    require_calibration(suite, 0.5)  # kappa ~0.8: passes
    with pytest.raises(
        CalibrationError,
        match=r"poorly calibrated: quadratic kappa 0\.\d+ \[.*\] over 6 items < required 0\.99",
    ):
        require_calibration(suite, 0.99)
    changed = load_suite(write_suite(tmp_path, model={"name": "judge-model", "max_tokens": 99}))
    with pytest.raises(CalibrationError, match="changed since its calibration"):
        require_calibration(changed, 0.5)


def test_a_suite_without_judge_cannot_require_calibration(tmp_path: Path) -> None:
    path = write_suite(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["scorers"] = data["scorers"][1:]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CalibrationError, match="has no judge scorer"):
        require_calibration(load_suite(path), 0.5)


def test_position_swap_check_for_a_pairwise_judge(
    tmp_path: Path, judge_engine: EngineHandle
) -> None:
    rubric = tmp_path / "pair.yaml"
    rubric.write_text(
        "name: pair\ndimensions:\n  - key: better\n    title: Better answer\n"
        "    scale: {type: pairwise}\n    guideline: Which answer helps the user more?\n"
    )
    url = f"sqlite:///{tmp_path / 'pair.db'}"
    with Store(url) as store:
        version = store.register_rubric(parse_rubric(rubric.read_text(), path=str(rubric)))
        store.add_conversations(
            [
                Conversation(
                    f"p{i}",
                    ({"role": "user", "content": f"Question {i}?"},),
                    {"answer_a": f"short {i}", "answer_b": f"a longer answer number {i}"},
                )
                for i in range(4)
            ],
            source="test",
        )
        store.add_user("ada", "rater", "long-enough-password")
        for i, value in enumerate("ABAB"):
            store.rate(
                "ada", f"p{i}", {"better": value}, rubric_id=version.id, require_assignment=False
            )
    suite = load_suite(write_suite(tmp_path, rubric=str(rubric), dimension="better", against="ref"))
    cal = calibrate(
        suite, "helpful", n_resamples=200, db=url, mode="live", base_url=judge_engine.base_url
    )
    assert cal.swap == {"n": 4, "consistent": 0, "rate": 0.0}  # the engine always says "A"
    assert cal.ratings == {f"p{i}": "A" for i in range(4)}
    assert "position swap: 0/4 verdicts survive the swap" in "\n".join(cal.lines())


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(
        cli, ["calibrate", "--resamples", "200", *args], catch_exceptions=False
    )


@pytest.mark.slow
def test_cli_reports_saves_and_gates(tmp_path: Path, db: str, judge_engine: EngineHandle) -> None:
    suite = str(write_suite(tmp_path))
    rec = run_cli(
        suite,
        "--scorer",
        "helpful",
        "--db",
        db,
        "--mode",
        "record",
        "--base-url",
        judge_engine.base_url,
    )
    assert rec.exit_code == 0, rec.output
    assert "kappa (quadratic, the gate's):" in rec.output and "consensus \\ judge" in rec.output
    assert (tmp_path / "judged.calibration.json").is_file()
    out = run_cli(suite, "--scorer", "helpful", "--db", db, "--json")  # replay
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["groups"][0]["n_items"] == 6
    low = run_cli(suite, "--scorer", "helpful", "--db", db, "--min-kappa", "0.99")
    assert low.exit_code == 1 and "is below 0.99" in low.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--scorer", "nope"], "no scorer named 'nope' (judges: helpful)"),
        (["--scorer", "says_something"], "is 'contains', not a judge"),
    ],
)
def test_cli_misuse_exits_2_with_one_line(
    tmp_path: Path, db: str, args: list[str], needle: str
) -> None:
    result = run_cli(str(write_suite(tmp_path)), "--db", db, *args)
    assert result.exit_code == 2
    assert needle in result.output and len(result.output.strip().splitlines()) == 1


def test_cli_replay_without_recording_exits_2(tmp_path: Path, db: str) -> None:
    result = run_cli(str(write_suite(tmp_path)), "--scorer", "helpful", "--db", db)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "calibrate-helpful" in result.output


def test_no_ratings_of_the_dimension_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    Store(url).close()
    with pytest.raises(
        CalibrationError, match=r"no human ratings of assistant-quality\.helpfulness"
    ):
        calibrate(load_suite(write_suite(tmp_path)), "helpful", n_resamples=200, db=url)
