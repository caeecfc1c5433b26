"""What the production watch costs per call, off and on, measured side by side.

* off: the watch's hook in the client is a context-variable read when the call is planned
  and a truthiness check of the empty observer list when it ends (and one more per
  structured call). Timed here on the real objects against an empty loop; the bound is 1 µs.
* on: ``_CallPlan.result`` (what ends every call) with the watch recording metrics (the
  Prometheus exporter, SLO buckets) and, separately, spans too; the difference to the same
  call with the watch off is the cost per call. A real streamed call to the embedded engine
  is timed for scale.

    python benchmarks/watch_overhead.py [--chunks 50] [--number 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
from typing import Any

from llmkit import _observe
from llmkit import watch as llmkit_watch
from llmkit.engine import EngineConfig, start_engine
from llmkit.llm import Client
from llmkit.llm._client import _CallPlan

SLO = "ttft_p95=800ms,itl_p95=80ms"


def _finished_plan(client: Client, chunks: int) -> _CallPlan:
    """A plan whose call really ran (so ``result()`` builds a real event)."""
    plan = client._plan("Tell me about latency.", None, True, None, {"max_tokens": chunks})
    for _ in client._iter_call(plan):
        pass
    return plan


def _per_call_ns(stmt: Any, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=50, help="output chunks per call")
    parser.add_argument("--number", type=int, default=20000, help="calls timed per repeat")
    args = parser.parse_args()
    llmkit_watch.disable()
    with (
        start_engine(EngineConfig.zero_delay()) as engine,
        Client(base_url=engine.base_url, model=engine.config.model) as client,
    ):
        plan = _finished_plan(client, args.chunks)
        e2e = []
        for _ in range(20):
            start = time.perf_counter()
            client.chat("Tell me about latency.", max_tokens=args.chunks)
            e2e.append((time.perf_counter() - start) * 1e6)

    def empty() -> None:
        pass

    def hook_off() -> None:
        _observe.VARIANT.get()
        if _observe.OBSERVERS:
            raise AssertionError("the watch is on")

    n = args.number
    floor = _per_call_ns(empty, n)
    off = _per_call_ns(hook_off, n) - floor
    result_off = _per_call_ns(lambda: plan.result(log=False), n // 10)
    llmkit_watch.enable("prometheus", slo=SLO)
    result_metrics = _per_call_ns(lambda: plan.result(log=False), n // 10)
    from opentelemetry.sdk.trace import TracerProvider

    llmkit_watch.enable("prometheus", slo=SLO, tracer_provider=TracerProvider())
    result_spans = _per_call_ns(lambda: plan.result(log=False), n // 10)
    llmkit_watch.disable()
    chunks = len(plan.state.timing(streamed=True).chunk_times_ns) if plan.state else 0
    print(f"per call, {chunks} output chunks (one ITL sample each), best of 7 repeats")
    print(f"  watch off: hook                 {off:8.1f} ns   (bound: 1000 ns)")
    print(f"  end of call, watch off          {result_off / 1000:8.2f} µs")
    print(
        f"  end of call, metrics on         {result_metrics / 1000:8.2f} µs   (+{(result_metrics - result_off) / 1000:.2f} µs)"
    )
    print(
        f"  end of call, metrics + spans on {result_spans / 1000:8.2f} µs   (+{(result_spans - result_off) / 1000:.2f} µs)"
    )
    print(
        f"  a real streamed call (engine at zero delay, median of 20): {statistics.median(e2e):8.0f} µs"
    )
    print(f"off adds {off:.0f} ns per call: {'within' if off <= 1000 else 'OVER'} the 1 µs bound")


if __name__ == "__main__":
    main()
