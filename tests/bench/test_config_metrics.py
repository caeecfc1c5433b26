"""Parsing of options, statistics and load patterns (no server needed)."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from llmkit._exceptions import ConfigError
from llmkit.bench import SLO, BenchConfig, describe, percentile
from llmkit.bench._compare import normalize_metric, parse_threshold
from llmkit.bench._load import arrival_offsets
from llmkit.bench._prompts import PromptSource, synthetic_text
from llmkit.cli._bench_args import parse_duration, parse_float_list, parse_int_list, parse_slo

URL = "http://127.0.0.1:1/v1"


def test_durations() -> None:
    assert parse_duration("500ms") == 0.5
    assert parse_duration("30s") == 30
    assert parse_duration("2m") == 120
    assert parse_duration("1.5") == 1.5
    with pytest.raises(ConfigError):
        parse_duration("soon")


def test_slo_spec() -> None:
    assert parse_slo("ttft=500ms,itl=50ms,e2e=10s") == SLO(ttft_ms=500, itl_ms=50, e2e_ms=10_000)
    assert parse_slo("tbt=20") == SLO(itl_ms=20)
    for bad in ("", "ttft", "speed=3ms"):
        with pytest.raises(ConfigError):
            parse_slo(bad)


def test_lists() -> None:
    assert parse_int_list("1,4,16") == (1, 4, 16)
    assert parse_float_list("2,8.5") == (2.0, 8.5)
    with pytest.raises(ConfigError):
        parse_int_list("1,0")


def test_config_rules() -> None:
    with pytest.raises(ConfigError, match="exclude"):
        BenchConfig(base_url=URL, concurrency=(1,), rates=(2.0,))
    with pytest.raises(ConfigError, match="exclude"):
        BenchConfig(base_url=URL, requests=3, duration_s=1)
    with pytest.raises(ConfigError, match="--slo"):
        BenchConfig(base_url=URL, find_max=True)
    c = BenchConfig(base_url=URL, api_key="sk-secret", concurrency=(1, 4), prompt_tokens=(16, 64))
    assert "sk-secret" not in repr(c)
    assert "api_key" not in c.public_args()
    assert [lv.label for lv in c.levels()] == ["c=1 in=16", "c=4 in=16", "c=1 in=64", "c=4 in=64"]


def test_percentiles_match_numpy() -> None:
    values = [float(v) for v in np.random.default_rng(1).exponential(10, 257)]
    d = describe(values)
    for q in (50, 90, 95, 99):
        assert d[f"p{q}"] == pytest.approx(float(np.percentile(values, q)))
    assert d["mean"] == pytest.approx(statistics.fmean(values))
    assert d["max"] == max(values)
    assert describe([]) == dict.fromkeys(("mean", "p50", "p90", "p95", "p99", "max"))
    assert percentile([1.0], 99) == 1.0


@pytest.mark.parametrize("burstiness", [1.0, 0.25, 4.0])
def test_arrivals_have_the_asked_mean_rate(burstiness: float) -> None:
    gen = arrival_offsets(20.0, burstiness=burstiness, seed=3)
    times = [next(gen) for _ in range(4001)]
    gaps = np.diff(times)
    assert 1 / gaps.mean() == pytest.approx(20.0, rel=0.1)
    # coefficient of variation of gamma gaps is 1/sqrt(shape)
    assert gaps.std() / gaps.mean() == pytest.approx(burstiness**-0.5, rel=0.15)


def test_ramp_up_starts_slower() -> None:
    gen = arrival_offsets(50.0, ramp_up_s=4.0, seed=1)
    times = [next(gen) for _ in range(400)]
    first_second = sum(1 for t in times if t < 1)
    last_second = sum(1 for t in times if 4 <= t < 5)
    assert first_second < last_second / 2


def test_synthetic_prompts_have_the_asked_token_count() -> None:
    import random

    from llmkit._tokens import count_tokens

    for n in (1, 17, 256):
        assert count_tokens(synthetic_text(n, random.Random(n)).lstrip()) == n


def test_random_prefix_makes_every_prompt_unique(tmp_path: object) -> None:
    src = PromptSource(prompt_tokens=8, random_prefix=True, seed=1)
    firsts = {src.messages(i)[0][0]["content"][:30] for i in range(50)}
    assert len(firsts) == 50
    plain = PromptSource(prompt_tokens=8, seed=1)
    assert plain.messages(3) == plain.messages(3)


def test_compare_helpers() -> None:
    assert parse_threshold("10%") == pytest.approx(0.1)
    assert parse_threshold("0.05") == pytest.approx(0.05)
    assert parse_threshold("15") == pytest.approx(0.15)
    assert normalize_metric("ttft_ms") == "ttft_ms.p50"
    assert normalize_metric("tps") == "throughput.output_tokens_per_s"
