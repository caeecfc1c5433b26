"""``bench compare`` without usable per-request samples says so (stderr and JSON), and
``--require-intervals`` makes that misuse (exit 2). Before, a missing, truncated or
all-NaN ``requests.csv`` exited 0 with no note while gating on point estimates alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .test_compare import _same_server, bench, make_run


def _missing(path: Path) -> None:
    (path / "requests.csv").unlink()


def _truncated(path: Path) -> None:
    lines = (path / "requests.csv").read_text().splitlines(keepends=True)
    (path / "requests.csv").write_text("".join(lines[: len(lines) // 2]))


def _all_nan(path: Path) -> None:
    lines = (path / "requests.csv").read_text().splitlines(keepends=True)
    rows = [",".join([*line.split(",")[:4], "nan", "nan"]) + "\n" for line in lines[1:]]
    (path / "requests.csv").write_text(lines[0] + "".join(rows))


@pytest.mark.parametrize(
    ("spoil", "said"),
    [(_missing, "no requests.csv"), (_truncated, "holds"), (_all_nan, "no usable values")],
)
def test_a_run_without_usable_samples_is_named(
    tmp_path: Path, spoil: Callable[[Path], None], said: str
) -> None:
    ttft = _same_server(3, 100)
    a, b = make_run(tmp_path / "a", ttft), make_run(tmp_path / "b", ttft)
    spoil(b)
    code, stdout, err = bench("compare", str(a), str(b), "--json")
    assert code == 0
    summary = json.loads(stdout)
    assert summary["intervals_missing"] is True
    (note,) = summary["notes"]
    assert note.startswith(f"{b}: ") and said in note and "point estimates alone" in note
    assert said in err and "point estimates alone" in err
    assert all(c["method"] == "point" for c in summary["changes"])
    code, _, err = bench("compare", str(a), str(b), "--require-intervals")
    assert code == 2 and said in err


def test_usable_samples_leave_no_note(tmp_path: Path) -> None:
    ttft = _same_server(3, 100)
    a, b = make_run(tmp_path / "a", ttft), make_run(tmp_path / "b", ttft)
    code, stdout, err = bench("compare", str(a), str(b), "--json", "--require-intervals")
    assert code == 0 and json.loads(stdout)["notes"] == [] and "note" not in err
