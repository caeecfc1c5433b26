"""The trend plot's axes: a mean on its rubric's scale, a rate on 0..1, intervals always shown."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from llmkit.annotate._metrics import _y_range, plot_trend

ONE_DAY = pd.DataFrame(
    [
        {"day": "2026-11-02", "rubric": "r", "rubric_version": 1, "metric": "quality_mean",
         "dimension": "quality", "estimate": 4.05, "low": 3.95, "high": 4.15, "n_items": 30,
         "n_ratings": 60},
        {"day": "2026-11-02", "rubric": "r", "rubric_version": 1, "metric": "bad_rate",
         "dimension": "bad", "estimate": 0.1, "low": 0.05, "high": 0.2, "n_items": 30,
         "n_ratings": 60},
    ]
)  # fmt: skip


def test_a_mean_spans_its_likert_scale_not_its_noise() -> None:
    part = ONE_DAY[ONE_DAY["metric"] == "quality_mean"]
    low, high = _y_range("quality_mean", part, {"quality_mean": (1, 5)})
    assert low <= 1 and high >= 5 and high - low < 4.5
    # Without the scale: at least one point of it around the data, not 3.95..4.15.
    low, high = _y_range("quality_mean", part, {})
    assert high - low >= 1 and low < 3.95 and high > 4.15


def test_a_rate_spans_0_to_1() -> None:
    low, high = _y_range("bad_rate", ONE_DAY[ONE_DAY["metric"] == "bad_rate"], {})
    assert low <= 0 and high >= 1


def test_one_day_draws_its_interval(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    drawn: list[object] = []
    original = plt.Axes.errorbar

    def spy(self: plt.Axes, x: object, y: object, *args: object, **kwargs: object) -> object:
        drawn.append(kwargs.get("yerr"))
        return original(self, x, y, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plt.Axes, "errorbar", spy)
        out = plot_trend(ONE_DAY, tmp_path / "trend.png", scales={"quality_mean": (1, 5)})
    assert out.stat().st_size > 0
    bars = {round(float(err[0][0]), 2) for err in drawn}  # type: ignore[index]
    assert bars == {0.1, 0.05}  # each estimate's distance to its interval's low end
    with pytest.raises(FileNotFoundError):  # no folder is made for it
        plot_trend(ONE_DAY, tmp_path / "no" / "trend.png")
