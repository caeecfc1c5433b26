"""A stop signal that comes while the run's records are being counted is heard: the run
ends as interrupted by it (a SIGTERM during 28 s of counting after the run once exited 0,
70 s later, with ``interrupted: false``)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pytest

from llmkit.bench import BenchConfig, _runner, run_bench
from llmkit.engine import EngineConfig, EngineHandle


def test_a_sigterm_while_records_are_counted_stops_the_run_honestly(
    bench_engine: Callable[..., EngineHandle], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _runner.make_counter
    signalled: list[bool] = []

    def counter_that_meets_a_sigterm(tokenizer: str | None = None) -> Callable[[str], int]:
        count = real(tokenizer)

        def counting(text: str) -> int:
            if not signalled:  # CI cancels the job while the first record is counted
                signalled.append(True)
                os.kill(os.getpid(), signal.SIGTERM)
            return count(text)

        return counting

    monkeypatch.setattr(_runner, "make_counter", counter_that_meets_a_sigterm)
    eng = bench_engine(EngineConfig.zero_delay())
    previous = signal.getsignal(signal.SIGTERM)
    config = BenchConfig(base_url=eng.base_url, requests=3, max_tokens=4, continuous_usage=False)
    result = run_bench(config)
    assert signalled
    assert result.interrupted and result.stopped_by == "SIGTERM"
    assert result.levels[0].ok == 3  # what was measured is kept
    assert signal.getsignal(signal.SIGTERM) is previous
