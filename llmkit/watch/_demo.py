"""The watch section of ``llmkit demo``: a model shift caught four ways.

A day of traffic on model v1 (the reference), then a rollout: sticky variants send half of
users to v2, which writes more cut-short YAML (so more re-prompts and parse failures) and
is slow for 10% of its users. Metrics reach the scrape endpoint, the re-prompt alert's
condition turns true on them, the canary judge rolls back naming the failing metrics,
and drift names the parse-stage mix and ITL.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit.extras import missing_extras
from llmkit.watch._assign import variant
from llmkit.watch._canary import compare
from llmkit.watch._drift import drift
from llmkit.watch._scrape import scrape, total
from llmkit.watch._setup import INSTALL_HINT, disable, enable, serve_metrics

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["run_demo"]

SLO = "ttft_p95=800ms,itl_p95=20ms,error_rate=2%,reprompt_rate=5%"
WEIGHTS = {"A": 0.5, "B": 0.5}


def _slow_user(user: str) -> bool:
    """One in ten users of the new model gets the slow path (a bad shard, say)."""
    return hashlib.sha256(f"slow\x00{user}".encode()).digest()[0] < 26


def _ratio(before: Any, after: Any, name: str, **labels: str) -> float:
    hits = total(after, name, **labels) - total(before, name, **labels)
    count = total(after, name) - total(before, name)
    return hits / count if count else 0.0


def _error_share(before: Any, after: Any) -> float:
    name = "gen_ai_client_operation_duration_seconds_count"

    def failed(samples: Any) -> float:
        return float(
            sum(v for (n, ls), v in samples.items() if n == name and dict(ls).get("error_type"))
        )

    count = total(after, name) - total(before, name)
    return (failed(after) - failed(before)) / count if count else 0.0


def run_demo(console: Console, quick: bool = False) -> dict[str, Any]:
    """Run the scenario; return what it measured (for ``llmkit demo --json``)."""
    if missing_extras("watch"):
        console.print(f"[yellow]skipped:[/] {INSTALL_HINT}")
        return {"skipped": INSTALL_HINT}
    from llmkit.engine import EngineConfig, Faults, load_scenario, start_engine
    from llmkit.llm import AsyncClient, CallLog, read_log

    schema = next(
        dict(r.schema) for r in load_scenario().rules if r.name == "ticket-yaml" and r.schema
    )
    reference_users, rollout_users = (60, 300) if quick else (100, 400)
    min_samples = 30 if quick else 50
    v2_faults = Faults(malformed=0.4, malformed_kinds=("truncated",))

    def engine(model: str, step_ms: float, faults: Faults) -> EngineConfig:
        return EngineConfig(
            model=model,
            decode_step_ms=step_ms,
            prefill_ms_per_token=0.01,
            tokens_per_chunk=8,
            seed=11,
            faults=faults,
        )

    v1 = engine("sim-v1", 1.0, Faults(malformed=0.05))
    v2 = engine("sim-v2", 1.0, v2_faults)
    v2_slow = engine("sim-v2", 40.0, v2_faults)

    report: dict[str, Any] = {}
    enable("prometheus", slo=SLO)
    try:
        server = serve_metrics(0)
        with (
            tempfile.TemporaryDirectory(prefix="llmkit-watch-demo-") as tmp,
            start_engine(v1) as e1,
            start_engine(v2) as e2,
            start_engine(v2_slow) as e2_slow,
        ):
            log = CallLog(Path(tmp) / "calls.db")

            async def serve(users: range, rollout: bool) -> None:
                async with (
                    AsyncClient(base_url=e1.base_url, model=v1.model, log=log) as a,
                    AsyncClient(base_url=e2.base_url, model=v2.model, log=log) as b,
                    AsyncClient(base_url=e2_slow.base_url, model=v2.model, log=log) as b_slow,
                ):
                    limit = asyncio.Semaphore(24)

                    async def user(n: int) -> None:
                        key = f"user-{n}"
                        name = variant(key, WEIGHTS if rollout else {"A": 1.0})
                        client = a if name == "A" else (b_slow if _slow_user(key) else b)
                        async with limit:
                            await client.structured(
                                f"Extract the support ticket of {key} as YAML",
                                schema,
                                max_tokens=300,
                            )

                    await asyncio.gather(*(user(n) for n in users))

            asyncio.run(serve(range(reference_users), rollout=False))
            log.flush()
            split = len(read_log(log.path))
            before = scrape(server.url)
            asyncio.run(
                serve(range(reference_users, reference_users + rollout_users), rollout=True)
            )
            after = scrape(server.url)
            log.close()
            frame = read_log(log.path)
        reference, current = frame.iloc[:split], frame.iloc[split:]
        _show_metrics(console, report, before, after, server.url)
        verdict = compare(current, "A", "B", min_samples=min_samples)
        _show_verdict(console, report, verdict)
        found = drift(reference, current, min_samples=min_samples)
        _show_drift(console, report, found)
    finally:
        disable()
    return report


def _show_metrics(
    console: Console, report: dict[str, Any], before: Any, after: Any, url: str
) -> None:
    calls = total(after, "gen_ai_client_operation_duration_seconds_count")
    reprompt = _ratio(
        before, after, "llmkit_structured_outcomes_total", llmkit_structured_stage="reprompted"
    )
    errors = _error_share(before, after)
    gaps = total(after, "gen_ai_client_operation_time_per_output_chunk_seconds_count") - total(
        before, "gen_ai_client_operation_time_per_output_chunk_seconds_count"
    )
    fast = total(
        after, "gen_ai_client_operation_time_per_output_chunk_seconds_bucket", le="0.02"
    ) - total(before, "gen_ai_client_operation_time_per_output_chunk_seconds_bucket", le="0.02")
    over = 1 - fast / gaps if gaps else 0.0
    console.print(
        f"[bold]metrics[/] at {url}: {calls:.0f} calls on gen_ai_client_operation_duration_seconds,"
        " ITL on gen_ai_client_operation_time_per_output_chunk_seconds, stages on"
        " llmkit_structured_outcomes_total"
    )
    console.print("during the rollout, the rules' expressions on that scrape:")
    rows = [
        ("LLMRepromptRatioHigh", f"re-prompted share {reprompt:.1%} > 5%", reprompt > 0.05),
        ("LLMErrorRateBurnFast", f"error share {errors:.1%} > 28.8% (14.4 x 2%)", errors > 0.288),
        ("LLMItlP95BurnSlow", f"chunk gaps over 20 ms {over:.1%} > 30% (6 x 5%)", over > 0.30),
    ]
    for alert, condition, firing in rows:
        mark = "[red]true[/]" if firing else "[green]false[/]"
        console.print(f"  {alert:22s} {condition}: {mark}", highlight=False)
    report["metrics"] = {
        "calls": calls,
        "reprompt_share": reprompt,
        "error_share": errors,
        "itl_over_slo_share": over,
        "alerts_true": [alert for alert, _, firing in rows if firing],
    }
    console.print(
        "[dim]llmkit watch rules --slo ... -o rules.yml writes these as Prometheus rules;"
        " a real Prometheus evaluates them in the tests.[/]"
    )


def _show_verdict(console: Console, report: dict[str, Any], verdict: Any) -> None:
    console.print(
        f"[bold]canary judge[/] (llmkit watch compare --baseline A --canary B):"
        f" [bold]{verdict.verdict}[/] (exit {verdict.exit_code}): {verdict.reason}",
        highlight=False,
    )
    for m in verdict.metrics:
        if m.status == "fail":
            console.print(f"  [red]fail[/] {m.name}: {m.reason}", highlight=False)
    report["canary"] = {
        "verdict": verdict.verdict,
        "exit_code": verdict.exit_code,
        "failing": verdict.failing,
        "samples": verdict.samples,
    }


def _show_drift(console: Console, report: dict[str, Any], found: Any) -> None:
    console.print(
        f"[bold]drift[/] (llmkit watch drift --reference ... --current ...): {found.verdict}:"
        f" {found.reason}",
        highlight=False,
    )
    for s in found.signals:
        if s.drifted:
            console.print(
                f"  {s.signal:14s} {s.test}, adjusted p {s.p_adjusted:.2g}, JS {s.jensen_shannon:.2f}: {s.detail}",
                highlight=False,
            )
    report["drift"] = {
        "verdict": found.verdict,
        "exit_code": found.exit_code,
        "drifted": found.drifted,
    }
