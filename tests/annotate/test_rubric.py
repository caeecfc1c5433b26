"""Rubrics: the shipped one is valid and complete, errors name the line, edits make versions."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from llmkit.annotate import (
    OffScaleError,
    Rubric,
    RubricError,
    Store,
    annotation_dirs,
    load_rubric,
    parse_rubric,
    read_conversations,
    sample_conversations_path,
)
from llmkit.annotate._data import package_data_dir

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "annotation" / "rubrics" / "assistant-quality.yaml"


def test_default_rubric_has_the_issue_dimensions(rubric: Rubric) -> None:
    assert rubric.name == "assistant-quality"
    for key in (
        "overall_quality",
        "correctness",
        "helpfulness",
        "hallucination",
        "rai_violation",
        "coherence",
        "style",
    ):
        dim = rubric.dimension(key)
        assert dim.guideline.strip()
        assert dim.default is not None
    assert rubric.dimension("hallucination").scale.type == "binary"
    assert rubric.dimension("rai_violation").flagged() == (
        "harmful",
        "biased",
        "privacy",
        "toxic",
        "other",
    )
    likert = rubric.dimension("overall_quality").scale
    assert likert.points is not None and len(likert.points) == 5
    assert all(text.strip() for text in likert.points.values())
    # LinkedIn's correct-but-unhelpful example is among the worked examples.
    examples = rubric.dimension("helpfulness").examples
    assert any("not a good fit" in (e.assistant or "") and e.rating == "1" for e in examples)


def test_every_scale_type_parses() -> None:
    text = """
name: all-scales
dimensions:
  - key: quality
    title: Q
    guideline: g
    scale: {type: likert, points: {1: bad, 2: ok, 3: good}}
    default: "2"
  - key: flag
    title: F
    guideline: g
    scale: {type: binary, labels: {yes: flagged, no: fine}}
  - key: kind
    title: K
    guideline: g
    scale:
      type: categorical
      options:
        - {value: none}
        - {value: bad, flag: true, key: b}
  - key: prefer
    title: P
    guideline: g
    scale: {type: pairwise, allow_tie: false}
  - key: note
    title: N
    guideline: g
    required: false
    scale: {type: comment}
"""
    rubric = parse_rubric(text)
    assert [d.scale.type for d in rubric.dimensions] == [
        "likert",
        "binary",
        "categorical",
        "pairwise",
        "comment",
    ]
    assert rubric.dimension("prefer").scale.values() == ("A", "B")
    assert rubric.dimension("flag").scale.normalise("YES") == "yes"
    assert rubric.dimension("quality").scale.normalise(3) == "3"
    with pytest.raises(OffScaleError):  # an llmkit error, and still a ValueError
        rubric.dimension("quality").scale.normalise("4")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "line_needle", "words"),
    [
        ("type: binary", "type: bnary", "type: bnary", "scale.type"),
        (
            "    guideline: |\n      Tone",
            "    guidline: |\n      Tone",
            "- key: style",
            "guideline",
        ),
        ("        2: Poor.", "        7: Poor.", "    scale:", "consecutive"),
        ("name: assistant-quality", "name: [broken", "name: [broken", "broken YAML"),
        ("  - key: correctness", "  - key: Correct ness", "key: Correct ness", "dimensions.1.key"),
    ],
)
def test_errors_name_the_line(old: str, new: str, line_needle: str, words: str) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new, 1)
    with pytest.raises(RubricError) as info:
        parse_rubric(broken, path="edited.yaml")
    err = info.value
    assert err.path == "edited.yaml"
    assert words in str(err)
    expected = _line_of(broken, line_needle)
    # The line of the offending entry (or, for a missing key, the entry that lacks it).
    assert err.line is not None and abs(err.line - expected) <= 1, (err.line, expected)
    assert str(err).startswith(f"edited.yaml:{err.line}:")


def test_yaml_1_1_booleans_stay_text() -> None:
    # PyYAML would read `no` as False: the rubric reads every scalar as text.
    rubric = parse_rubric(
        "name: r\ndimensions:\n  - {key: h, title: H, guideline: g, default: no,"
        " scale: {type: binary, labels: {yes: y, no: n}}}\n"
    )
    assert rubric.dimension("h").default == "no"


def test_repeated_keys_and_dimensions_are_rejected() -> None:
    with pytest.raises(RubricError, match="appears twice") as info:
        parse_rubric("name: a\nname: b\ndimensions: []\n")
    assert info.value.line == 2
    text = SHIPPED.read_text(encoding="utf-8")
    dup = (
        text + "\n  - key: style\n    title: again\n    guideline: g\n    scale: {type: comment}\n"
    )
    with pytest.raises(RubricError, match="repeat: style"):
        parse_rubric(dup)


def test_editing_makes_a_new_version_and_ratings_keep_theirs(store: Store, tmp_path: Path) -> None:
    original = load_rubric(SHIPPED)
    v1 = store.register_rubric(original)
    assert store.register_rubric(load_rubric(SHIPPED)) == v1  # same content, same version
    edited_path = tmp_path / "assistant-quality.yaml"
    edited_path.write_text(
        SHIPPED.read_text(encoding="utf-8")
        .replace("Answer briefly", "Answer briefly")
        .replace("Shorter is better", "Short is better"),
        encoding="utf-8",
    )
    edited = load_rubric(edited_path)
    assert edited.content_hash != original.content_hash
    v2 = store.register_rubric(edited)
    assert (v1.version, v2.version) == (1, 2)
    assert [v.version for v in store.rubric_versions("assistant-quality")] == [1, 2]

    store.add_user("ada", "rater", "password-ada")
    from llmkit.annotate import Conversation

    store.add_conversations([Conversation("c1", ({"role": "user", "content": "hi"},))], source="t")
    store.rate("ada", "c1", {"overall_quality": 4}, rubric_id=v1.id, require_assignment=False)
    store.rate("ada", "c1", {"overall_quality": 5}, rubric_id=v2.id, require_assignment=False)
    frame = store.ratings_frame(latest=False)
    kept = frame[frame["dimension"] == "overall_quality"][["value", "rubric_version"]]
    assert kept.values.tolist() == [["4", 1], ["5", 2]]
    assert store.rubric_version(v1.id).rubric.content_hash == original.content_hash


def test_shipped_samples_are_valid_and_varied() -> None:
    conversations = read_conversations(sample_conversations_path())
    assert len(conversations) >= 500
    meta = [c.metadata for c in conversations]
    assert {m["model"] for m in meta} == {"assistant-small", "assistant-large"}
    assert {m["prompt_version"] for m in meta} >= {"1", "2"}
    assert {"clean", "repaired"} <= {m.get("structured_stage") for m in meta}
    styles = {m["scenario_style"] for m in meta}
    assert {"helpful", "unhelpful", "hallucinated"} <= styles
    assert sum(bool(c.gold) for c in conversations) >= 10
    unhelpful = [c for c in conversations if c.metadata["scenario_style"] == "unhelpful"]
    assert any("not a good fit" in c.messages[-1]["content"] for c in unhelpful)


def test_rubric_lookup_by_name_and_missing_name() -> None:
    assert load_rubric("assistant-quality").content_hash == load_rubric(SHIPPED).content_hash
    with pytest.raises(RubricError, match="no rubric named"):
        load_rubric("no-such-rubric")
    assert package_data_dir() in annotation_dirs()


def test_wheel_ships_rubrics_and_samples(tmp_path: Path) -> None:
    """A plain ``pip install .`` gets the package copy (the wheel holds it)."""
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    if out.returncode != 0 and "No module named" in out.stderr:
        pytest.skip(f"cannot build a wheel here: {out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("llmkit-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "llmkit/annotate/data/rubrics/assistant-quality.yaml" in names
        assert "llmkit/annotate/data/conversations.jsonl" in names
        shipped = zf.read("llmkit/annotate/data/conversations.jsonl").decode()
    assert len(shipped.splitlines()) >= 500
    json.loads(shipped.splitlines()[0])
