"""``llmkit demo``: llmkit's main job, offline, against the embedded engine.

Each section shows one capability on its embedded defaults: the client's timing and
retries, structured output repaired at a realistic error rate with the taxonomy and the
hints it suggests, a load sweep showing the latency/throughput trade-off, a simulated day of human rating
(agreement, gold accuracy, the day's quality metrics), a regression-evaluation suite
replayed from recorded traffic against its baseline, and a model shift in production
caught by metrics, an alert condition, the canary judge and drift.
``--quick`` runs the same sections smaller (fewer answers, shorter load levels), for
tests and a first look.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from llmkit.cli._common import console as make_console
from llmkit.cli._common import fail_cleanly, json_option, make_table, print_json

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["FULL", "QUICK", "SECTIONS", "DemoSize", "demo", "run_demo"]


@dataclass(frozen=True)
class DemoSize:
    """How much work each section does.

    Attributes:
        client_tokens: ``max_tokens`` of each client call.
        structured_answers: structured calls made.
        structured_tokens_per_chunk: tokens per SSE event in the structured section
            (more per event: fewer chunks for the client to build, same answers).
        latency_duration_s: seconds per load level.
        latency_tokens: ``max_tokens`` per benchmark request.
        latency_prompt_tokens: prompt length of each benchmark request.
        annotation_items: conversations rated in the simulated annotation day.
    """

    client_tokens: int
    structured_answers: int
    structured_tokens_per_chunk: int
    latency_duration_s: float
    latency_tokens: int
    latency_prompt_tokens: int
    annotation_items: int


FULL = DemoSize(
    client_tokens=40,
    structured_answers=100,
    structured_tokens_per_chunk=1,
    latency_duration_s=2.0,
    latency_tokens=32,
    latency_prompt_tokens=256,
    annotation_items=60,
)
QUICK = DemoSize(
    client_tokens=12,
    structured_answers=40,
    structured_tokens_per_chunk=8,
    latency_duration_s=0.5,
    latency_tokens=16,
    latency_prompt_tokens=32,
    annotation_items=30,
)


@click.command()
@click.option(
    "--section",
    "sections",
    multiple=True,
    help="Run only these sections (repeatable): client, structured, latency, annotation, evals,"
    " watch.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="Same sections, smaller: fewer answers, shorter load levels (for tests; also "
    "LLMKIT_DEMO_QUICK=1).",
)
@json_option
def demo(sections: tuple[str, ...], quick: bool, as_json: bool) -> None:
    """Start the embedded engine on a free port and show what llmkit measures and repairs.

    Runs offline in well under a minute and leaves no process behind.
    """
    import io

    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise click.BadParameter(
            f"unknown section(s) {unknown}; choose from {list(SECTIONS)}", param_hint="--section"
        )
    # With --json the human report is suppressed and only the numbers are printed.
    console = make_console(io.StringIO()) if as_json else make_console()
    with fail_cleanly():
        report = run_demo(console, list(sections) or None, QUICK if quick else FULL)
    if as_json:
        print_json(report)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def client_section(console: Console, report: dict[str, Any], size: DemoSize) -> None:
    """A handful of calls through the client, two of them hitting injected faults."""
    from llmkit.engine import EngineConfig, Faults, start_engine
    from llmkit.llm import Client, RetryPolicy

    config = EngineConfig(
        decode_step_ms=8.0,
        prefill_ms_per_token=0.05,
        faults=Faults(script=("ok", "429", "ok", "cut", "ok", "ok"), retry_after_s=0.2),
    )
    prompts = [
        "Hello! What can you do?",
        "Tell me about the weather.",
        "A short story, please.",
        "Explain batching.",
    ]
    numbers = ("tokens", "TTFB", "TTFT", "TPOT", "E2E", "attempts")
    table = make_table(
        "prompt",
        *numbers,
        title="calls through llmkit.Client (times in ms; engine ~120 tokens/s)",
        numeric=numbers,
    )
    rows = []
    with (
        start_engine(config) as engine,
        Client(
            base_url=engine.base_url,
            model=config.model,
            retry=RetryPolicy(initial_wait=0.05, max_wait=1.0),
        ) as client,
    ):
        for prompt in prompts:
            result = client.chat(prompt, max_tokens=size.client_tokens)
            t = result.timing
            attempts = "→".join(
                str(a.status) if a.error and a.status else (a.error and "cut") or "ok"
                for a in result.attempts
            )
            table.add_row(
                prompt,
                f"{t.output_tokens}{'~' if t.tokens_approximate else ''}",
                _ms(t.ttfb_ms),
                _ms(t.ttft_ms),
                _ms(t.tpot_ms),
                _ms(t.e2e_ms),
                attempts,
            )
            rows.append({"prompt": prompt, **t.to_dict(), "attempts": len(result.attempts)})
    console.print(table)
    console.print(
        "[dim]429: the engine said Retry-After 0.2 s, and the retry waited that long; "
        "cut: the stream broke mid-way and was retried, since no text had reached the "
        "caller yet. TTFB ≤ TTFT: the role-only chunk comes first.[/]"
    )
    report["client"] = rows


def _ticket_schema() -> dict[str, Any]:
    from llmkit.engine import load_scenario

    for rule in load_scenario().rules:
        if rule.name == "ticket-yaml" and rule.schema:
            return dict(rule.schema)
    raise RuntimeError("the default scenario has no ticket-yaml rule")  # pragma: no cover


def structured_section(console: Console, report: dict[str, Any], size: DemoSize) -> None:
    """YAML extractions with ~10% malformed answers: what each stage saved."""
    import asyncio
    import tempfile
    from pathlib import Path

    from llmkit.engine import EngineConfig, Faults, start_engine
    from llmkit.llm import AsyncClient, read_log
    from llmkit.structured import taxonomy_from_log, token_cost

    schema = _ticket_schema()
    n = size.structured_answers
    messages = [
        f"Extract the support ticket from message #{i} as YAML: my order arrived broken."
        for i in range(n)
    ]
    # Malformed at the rate LinkedIn saw (~10%) plus a few truncations at max_tokens.
    config = EngineConfig.zero_delay(
        faults=Faults(malformed=0.10), seed=7, tokens_per_chunk=size.structured_tokens_per_chunk
    )
    with tempfile.TemporaryDirectory() as tmp, start_engine(config) as engine:
        log_path = Path(tmp) / "calls.db"

        async def run_all() -> list[Any]:
            async with AsyncClient(
                base_url=engine.base_url, model=config.model, log=log_path
            ) as client:
                return list(
                    await asyncio.gather(
                        *(client.structured(m, schema, max_tokens=400) for m in messages)
                    )
                )

        results = asyncio.run(run_all())
        calls = engine.requests_served()
        tax = taxonomy_from_log(read_log(log_path), top=4)
    stages = Counter(r.stage for r in results)
    malformed = n - stages["clean"]
    table = make_table(
        "stage",
        "answers",
        "what happened",
        title=f"{n} structured calls, engine answering ~10% malformed YAML",
        numeric=("answers",),
    )
    explain = {
        "clean": "loaded and validated as written",
        "repaired": "fixed in code: no extra model call",
        "reprompted": "repair could not save it: asked the model again",
        "failed": "still invalid after the re-prompts",
    }
    for stage in ("clean", "repaired", "reprompted", "failed"):
        table.add_row(stage, str(stages[stage]), explain[stage])
    console.print(table)
    console.print(
        f"model calls: {calls} for {n} answers "
        f"(re-prompting every malformed answer would have needed {n + malformed})"
    )
    rules = make_table(
        "rule",
        "count",
        title="rules that fired (from the call log)",
        numeric=("count",),
    )
    for name, count in list(tax.rules.items())[:8]:
        rules.add_row(name, str(count))
    console.print(rules)
    if tax.hints:
        console.print("[bold]hint lines to add to the prompt[/] (prevent the top classes):")
        for hint in tax.hints:
            console.print(f"  - {hint}", markup=False, highlight=False)
    value = next(r.value for r in results if r.ok)
    cost = token_cost(value)
    # Honest about both JSON forms: compact JSON is often as cheap as YAML, or cheaper.
    console.print(f"one ticket costs {cost.summary()}", markup=False, highlight=False)
    report["structured"] = {
        "answers": n,
        "stages": dict(stages),
        "model_calls": calls,
        "rules": tax.rules,
        "hints": tax.hints,
        "tokens_yaml": cost.yaml,
        "tokens_json": cost.json,
        "tokens_json_compact": cost.json_compact,
    }


def _bar(value: float, top: float, width: int = 18) -> str:
    filled = 0 if top <= 0 else round(width * value / top)
    return "█" * filled + "·" * (width - filled)


def latency_section(console: Console, report: dict[str, Any], size: DemoSize) -> None:
    """A short concurrency sweep: throughput rises, then TTFT pays once the batch is full."""
    from llmkit.bench import BenchConfig, run_bench
    from llmkit.engine import EngineConfig, start_engine

    # A small model's worth of timing: 10 ms steps, a batch of 16, so the sweep's last
    # level queues and the trade-off shows within seconds.
    engine_config = EngineConfig(
        decode_step_ms=10.0, decode_ms_per_seq=0.4, prefill_ms_per_token=0.05, max_batch=16
    )
    with start_engine(engine_config) as engine:
        result = run_bench(
            BenchConfig(
                base_url=engine.base_url,
                model=engine_config.model,
                concurrency=(1, 4, 16, 48),
                duration_s=size.latency_duration_s,
                max_tokens=size.latency_tokens,
                ignore_eos=True,
                prompt_tokens=(size.latency_prompt_tokens,),
            )
        )
    summary = result.summary()
    levels = summary["levels"]
    top_tps = max(lv["throughput"]["output_tokens_per_s"] for lv in levels)
    top_ttft = max(lv["ttft_ms"]["p50"] or 0 for lv in levels)
    top_itl = max(lv["itl_ms"]["p50"] or 0 for lv in levels)
    console.print(
        "[bold]the trade-off[/] (engine batch 16; `llmkit bench` prints the full tables)\n"
        "more load buys throughput until the batch is full; users pay in TTFT and ITL"
    )
    for lv in levels:
        tps = lv["throughput"]["output_tokens_per_s"]
        ttft, itl = lv["ttft_ms"]["p50"] or 0.0, lv["itl_ms"]["p50"] or 0.0
        console.print(
            f"{lv['label']:>5} {lv['requests']['ok']:>3} req"
            f"  tok/s [green]{_bar(tps, top_tps, 8)}[/]{tps:6,.0f}"
            f"  TTFT [red]{_bar(ttft, top_ttft, 8)}[/]{ttft:6.0f} ms"
            f"  ITL [yellow]{_bar(itl, top_itl, 5)}[/]{itl:5.1f} ms",
            highlight=False,
        )
    report["latency"] = [
        {
            "level": lv["label"],
            "output_tokens_per_s": lv["throughput"]["output_tokens_per_s"],
            "ttft_ms_p50": lv["ttft_ms"]["p50"],
            "itl_ms_p50": lv["itl_ms"]["p50"],
            "failed": lv["requests"]["failed"],
        }
        for lv in levels
    ]


def annotation_section(console: Console, report: dict[str, Any], size: DemoSize) -> None:
    """A simulated day of human rating: agreement, gold accuracy and the day's metrics."""
    from llmkit.cli._demo_annotate import run_demo as run_annotation_demo

    report["annotation"] = run_annotation_demo(console, n_items=size.annotation_items)


def evals_section(console: Console, report: dict[str, Any], size: DemoSize) -> None:
    """The example suite replayed from its cassettes against its committed baseline."""
    from llmkit.cli._demo_eval import run_demo as run_eval_demo

    report["evals"] = run_eval_demo(console, quick=size is QUICK)


def watch_section(console: Console, report: dict[str, Any], size: DemoSize) -> None:
    """A model shift in production: metrics, the alert condition, canary verdict, drift."""
    from llmkit.watch import run_demo as run_watch_demo

    report["watch"] = run_watch_demo(console, quick=size is QUICK)


SECTIONS: dict[str, Callable[[Console, dict[str, Any], DemoSize], None]] = {
    "client": client_section,
    "structured": structured_section,
    "latency": latency_section,
    "annotation": annotation_section,
    "evals": evals_section,
    "watch": watch_section,
}


def run_demo(
    console: Console, sections: list[str] | None = None, size: DemoSize = FULL
) -> dict[str, Any]:
    """Run the demo sections in order; return what each measured (for ``--json``)."""
    from rich.panel import Panel

    report: dict[str, Any] = {}
    for name in sections or list(SECTIONS):
        console.print(Panel.fit(f"[bold]{name}[/]", border_style="cyan"))
        with console.status(f"running the {name} section…"):
            SECTIONS[name](console, report, size)
    return report
