"""``llmkit annotate ...``: the whole workflow from the command line, on both back ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmkit.annotate import Store, sample_conversations_path
from llmkit.cli._annotate import annotate
from llmkit.cli._demo_annotate import RATERS, simulated_rating

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], input: str | None = None, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(annotate, args, input=input, env=env, catch_exceptions=False)


@pytest.mark.slow
def test_workflow_end_to_end(store_url: str, tmp_path: Path) -> None:
    db = ["--db", store_url]
    result = _run(["import", str(sample_conversations_path()), "--redact", "--json", *db])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["imported"] >= 500
    for name in RATERS:
        assert _run(["user", "add", name, *db], input="s3cret-password\n").exit_code == 0
    env = {"LLMKIT_ANNOTATE_PASSWORD": "adjudicate-me"}
    assert _run(["user", "add", "lin", "--role", "adjudicator", *db], env=env).exit_code == 0
    listed = json.loads(_run(["user", "list", "--json", *db]).output)
    assert {(u["name"], u["role"]) for u in listed} == {
        ("ada", "rater"),
        ("grace", "rater"),
        ("lin", "adjudicator"),
    }
    drawn = _run(
        ["sample", "-n", "30", "--stratify-by", "model", "--day", "2026-11-02", "--json", *db]
    )
    assert json.loads(drawn.output)["items"] == 30
    plan = _run(
        [
            "assign",
            "--rater",
            "ada",
            "--rater",
            "grace",
            "--overlap",
            "0.5",
            "--gold",
            "2",
            "--json",
            *db,
        ]
    )
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.output)["overlap_items"] == 15
    queue = json.loads(_run(["queue", "ada", "--json", *db]).output)
    assert queue and "messages" not in queue[0] and "is_gold" not in queue[0]

    import random

    rng = random.Random(5)
    with Store(store_url) as store:
        assert store.verify_password("lin", "adjudicate-me") is not None
        for name, habits in RATERS.items():
            for entry in store.queue(name):
                style = store.conversation(entry.item_id).metadata.get("scenario_style", "")
                values = simulated_rating(str(style), rng, *habits)
                store.rate(name, entry.item_id, values, assignment_id=entry.assignment_id)

    disputes = json.loads(_run(["adjudicate", "--json", *db]).output)
    assert disputes, "two simulated raters with different habits disagree somewhere"
    first = disputes[0]
    settle = _run(
        [
            "adjudicate",
            "--item",
            first["item_id"],
            "--dimension",
            first["dimension"],
            "--value",
            next(iter(first["values"].values())),
            "--by",
            "lin",
            "--note",
            "checked",
            *db,
        ]
    )
    assert settle.exit_code == 0, settle.output
    assert len(json.loads(_run(["adjudicate", "--json", *db]).output)) == len(disputes) - 1

    report = json.loads(_run(["report", "--json", "--resamples", "200", *db]).output)
    metrics = {m["metric"] for m in report["metrics"]}
    assert {"overall_quality_mean", "hallucination_rate", "rai_violation_rate"} <= metrics
    assert {r["rater"] for r in report["raters"]} == set(RATERS)
    human = _run(["report", "--resamples", "200", *db], env={"COLUMNS": "200"})
    assert "overall_quality_mean" in human.output and "gold acc." in human.output

    out = tmp_path / "ratings.jsonl"
    assert _run(["export", str(out), *db]).exit_code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["rater"] for r in rows} == set(RATERS) and all("rater_id" in r for r in rows)


def test_password_is_never_an_argument(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "a.db")]
    misuse = _run(["user", "add", "ada", "--password", "hunter2hunter2", *db])
    assert misuse.exit_code == 2 and "No such option" in misuse.output
    missing = _run(["user", "add", "ada", "--password-env", "NOPE_NOT_SET", *db])
    assert missing.exit_code == 2 and "NOPE_NOT_SET" in missing.output
    env = {"MY_PW": "from-the-environment"}
    assert _run(["user", "add", "ada", "--password-env", "MY_PW", *db], env=env).exit_code == 0
    with Store(tmp_path / "a.db") as store:
        assert store.verify_password("ada", "from-the-environment") is not None
    short = _run(["user", "add", "bob", *db], input="short\n")
    assert short.exit_code == 2 and "8 characters" in short.output


def test_bad_import_exits_2_naming_the_line_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = {"id": "a", "messages": [{"role": "user", "content": "q"}]}
    path.write_text(json.dumps(good) + "\n" + '{"id": "b", "mesages": []}\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LLMKIT_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "llmkit", "annotate", "import", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:2:" in lines[0] and "unknown field" in lines[0]
    assert "Traceback" not in out.stderr
    with Store(tmp_path / "annotate.db") as store:  # the default store under LLMKIT_HOME
        assert store.count("items") == 0


@pytest.mark.parametrize(
    "args",
    [
        ["import"],  # neither FILE nor --from-log
        ["sample", "-n", "0"],
        ["assign", "--rater", "ada", "--overlap", "1.5"],
        ["adjudicate", "--item", "x"],
        ["export", "ratings.txt"],
        ["user", "add", "ada", "--role", "boss"],
    ],
)
def test_misuse_exits_2(args: list[str], tmp_path: Path) -> None:
    assert _run([*args, "--db", str(tmp_path / "a.db")]).exit_code == 2


def test_rubric_command_validates(tmp_path: Path) -> None:
    ok = _run(["rubric", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["name"] == "assistant-quality"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\ndimensions:\n  - key: q\n    title: Q\n    guideline: g\n    scale: {type: likert}\n"
    )
    result = _run(["rubric", str(bad)])
    assert result.exit_code == 2


def test_annotate_is_registered_with_agreement() -> None:
    from llmkit.cli._main import cli

    result = CliRunner().invoke(cli, ["annotate", "--help"])
    assert result.exit_code == 0
    for command in (
        "import",
        "user",
        "sample",
        "assign",
        "adjudicate",
        "report",
        "export",
        "agreement",
    ):
        assert command in result.output


def test_report_shows_drift_over_days(tmp_path: Path) -> None:
    from llmkit.annotate import Conversation, default_rubric

    db = tmp_path / "a.db"
    with Store(db) as store:
        rubric_id = store.register_rubric(default_rubric()).id
        store.add_conversations(
            [Conversation(f"i{k}", ({"role": "user", "content": "q"},)) for k in range(4)],
            source="t",
        )
        for name in ("ada", "bob"):
            store.add_user(name, "rater", "password-123")
        for k, day in enumerate((1_793_000_000.0, 1_793_100_000.0)):
            for item in (f"i{2 * k}", f"i{2 * k + 1}"):
                for name, quality in (("ada", 5), ("bob", 3)):
                    store.rate(
                        name,
                        item,
                        {"overall_quality": quality},
                        rubric_id=rubric_id,
                        require_assignment=False,
                        rated_at=day,
                    )
    result = _run(["report", "--resamples", "200", "--db", str(db)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "rater drift" in result.output
    drift = json.loads(_run(["report", "--json", "--resamples", "200", "--db", str(db)]).output)[
        "drift"
    ]
    # ada is 2 points above bob on 1 of the 5 Likert dimensions (defaults agree): 2/5.
    assert [(d["rater"], d["day"]) for d in drift] == [
        ("ada", "2026-10-26"),
        ("ada", "2026-10-27"),
        ("bob", "2026-10-26"),
        ("bob", "2026-10-27"),
    ]
    assert [d["bias"] for d in drift] == pytest.approx([0.4, 0.4, -0.4, -0.4])
