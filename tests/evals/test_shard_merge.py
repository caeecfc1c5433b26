"""``--shard i/n`` and ``llmkit eval merge``: the merged reports equal an unsharded run's."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from llmkit._exceptions import ConfigError
from llmkit.evals import load_suite
from llmkit.evals._shard import Shard, parse_shard, shard_of

from .conftest import REPO
from .helpers import llmkit

BASELINE = REPO / "prompts" / "support_ticket.baseline.json"


def test_shard_of_is_stable_as_cases_are_added_and_balanced() -> None:
    ids = [f"case-{i}" for i in range(1000)]
    before = {c: shard_of(c, 4) for c in ids}
    more = ids + [f"new-{i}" for i in range(300)]
    assert all(shard_of(c, 4) == before[c] for c in ids)  # nothing moves
    sizes = [sum(1 for c in more if shard_of(c, 4) == i) for i in range(1, 5)]
    assert sum(sizes) == 1300 and max(sizes) - min(sizes) <= 0.15 * 1300 / 4
    assert sorted(Shard(i, 4).select(ids) for i in range(1, 5)) == sorted(
        [c for c in ids if before[c] == i] for i in range(1, 5)
    )


@pytest.mark.parametrize("bad", ["0/3", "4/3", "1/0", "x", "1/2/3", "2", "1/1001"])
def test_parse_shard_refuses_nonsense(bad: str) -> None:
    with pytest.raises(ConfigError, match="--shard"):
        parse_shard(bad)
    assert parse_shard(" 2 / 3 ") == Shard(2, 3)


def _mixed_suite(suite_copy: Path) -> Path:
    """The example suite with a scorer that fails some cases (a mixed verdict to merge)."""
    text = suite_copy.read_text().replace("min_pass_rate: 1.0", "min_pass_rate: 0.5")
    text = text.replace(r"pattern: '^[^@\s]+@[^@\s]+\.[a-z]+$'", r"pattern: '[.]com$'")
    suite_copy.write_text(text)
    return suite_copy


def _normalised(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        text = path.read_text()
        if path.name == "summary.json":
            data = json.loads(text)
            for key in ("created", "seconds", "suite_file"):
                data.pop(key)
            text = json.dumps(data, sort_keys=True, indent=1)
        text = re.sub(r'time="[0-9.]+"', 'time="T"', text)
        text = re.sub(r"[0-9.]+ s\.", "T s.", text)
        out[path.name] = text
    return out


def _reports(args: list[str], folder: Path, suite: Path) -> tuple[int, str]:
    folder.mkdir()
    ran = llmkit(
        *args,
        "--baseline",
        str(BASELINE),
        "--junit",
        str(folder / "junit.xml"),
        "--markdown",
        str(folder / "report.md"),
        "--json",
    )
    return ran.code, ran.err


def test_merge_of_shards_equals_the_unsharded_run(suite_copy: Path, tmp_path: Path) -> None:
    suite = _mixed_suite(suite_copy)
    full = tmp_path / "full"
    code, _ = _reports(["eval", str(suite), "-o", str(full / "results")], full, suite)
    summary = json.loads((full / "results" / "summary.json").read_text())
    assert 0 < summary["pass_rate"] < 1 and code in (0, 1, 3)
    shard_dirs = []
    for i in (1, 2, 3):
        folder = tmp_path / f"shard-{i}"
        ran = llmkit("eval", str(suite), "--shard", f"{i}/3", "-o", str(folder), "--json")
        assert ran.code in (0, 1, 3), ran.err
        part = json.loads(ran.out)
        assert part["shard"] == {"index": i, "count": 3, "tags": []}
        assert all(shard_of(c, 3) == i for c in part["per_case"])
        shard_dirs.append(str(folder))
    merged = tmp_path / "merged"
    mcode, err = _reports(
        ["eval", "merge", *reversed(shard_dirs), "-o", str(merged / "results")], merged, suite
    )
    assert mcode == code, err
    assert _normalised(merged / "results") == _normalised(full / "results")
    assert _normalised(merged) == _normalised(full)  # JUnit and Markdown, comparison included
    assert set(_normalised(full)) == {"junit.xml", "report.md"}
    assert "Against the baseline" in (merged / "report.md").read_text()


def test_merge_refuses_an_incomplete_or_mixed_set(suite_copy: Path, tmp_path: Path) -> None:
    for spec in ("1/2", "2/2", "1/3"):
        folder = tmp_path / spec.replace("/", "of")
        assert llmkit("eval", str(suite_copy), "--shard", spec, "-o", str(folder)).code == 0
    ran = llmkit("eval", "merge", str(tmp_path / "1of2"))
    assert ran.code == 2 and "missing shard(s) 2/2" in ran.err
    ran = llmkit("eval", "merge", str(tmp_path / "1of2"), str(tmp_path / "1of2"))
    assert ran.code == 2 and "given twice" in ran.err
    ran = llmkit("eval", "merge", str(tmp_path / "1of2"), str(tmp_path / "1of3"))
    assert ran.code == 2 and "not of the same split" in ran.err
    # a case removed from a shard's results is named
    results = tmp_path / "2of2" / "results.jsonl"
    lines = results.read_text().splitlines()
    gone = json.loads(lines[0])["case"]
    results.write_text("\n".join(x for x in lines if json.loads(x)["case"] != gone) + "\n")
    ran = llmkit("eval", "merge", str(tmp_path / "1of2"), str(tmp_path / "2of2"))
    assert ran.code == 2 and f"case(s) {gone} ran in no shard" in ran.err
    ran = llmkit("eval", "merge", str(tmp_path / "nowhere"))
    assert ran.code == 2 and "not found" in ran.err


def test_an_empty_shard_passes_and_merges(tmp_path: Path, suite_copy: Path) -> None:
    text = suite_copy.read_text()
    one_case = text[: text.index("  - id: charged-twice")]
    suite_copy.write_text(one_case)
    only = load_suite(suite_copy).cases[0].id
    empty = next(i for i in (1, 2) if shard_of(only, 2) != i)
    ran = llmkit("eval", str(suite_copy), "--shard", f"{empty}/2", "-o", str(tmp_path / "e"))
    assert ran.code == 0, ran.err
    ran = llmkit("eval", str(suite_copy), "--shard", f"{3 - empty}/2", "-o", str(tmp_path / "f"))
    assert ran.code == 0
    ran = llmkit("eval", "merge", str(tmp_path / "e"), str(tmp_path / "f"), "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["cases"] == 1
    shutil.rmtree(tmp_path / "e")
