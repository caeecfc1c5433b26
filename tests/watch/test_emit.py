"""Metrics and spans on the GenAI names, from real calls to the embedded engine, read back
through a real scrape of ``serve_metrics`` and the SDK's in-memory span exporter."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmkit import _observe
from llmkit import watch as llmkit_watch
from llmkit.engine import EngineHandle, Faults
from llmkit.llm import AsyncClient, Client, read_log
from llmkit.watch import CardinalityWarning

from ._scrape import label_values, scrape, total

DURATION = "gen_ai_client_operation_duration_seconds"
TTFT = "gen_ai_client_operation_time_to_first_chunk_seconds"
ITL = "gen_ai_client_operation_time_per_output_chunk_seconds"
TOKENS = "gen_ai_client_token_usage"


def _spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_off_by_default_and_no_observer_is_called(engine: EngineHandle) -> None:
    assert llmkit_watch.current() is None
    assert _observe.OBSERVERS == []
    with Client(base_url=engine.base_url, model=engine.config.model) as client:
        assert client.chat("hello").text


def test_calls_reach_the_scrape_endpoint_on_the_standard_names(engine: EngineHandle) -> None:
    llmkit_watch.enable(slo="ttft_p95=800ms,itl_p95=80ms")
    server = llmkit_watch.serve_metrics(0)
    with Client(base_url=engine.base_url, model=engine.config.model) as client:
        for _ in range(3):
            client.chat("hello there", max_tokens=20)
        client.chat("no stream", stream=False, max_tokens=5)
    samples = scrape(server.url)
    assert total(samples, f"{DURATION}_count", gen_ai_operation_name="chat") == 4
    assert total(samples, f"{DURATION}_count", gen_ai_provider_name="openai") == 4
    assert label_values(samples, f"{DURATION}_count", "gen_ai_request_model") == {
        engine.config.model
    }
    assert label_values(samples, f"{DURATION}_count", "server_address") == {"127.0.0.1"}
    # Only streams have a first chunk and chunk gaps.
    assert total(samples, f"{TTFT}_count") == 3
    assert total(samples, f"{ITL}_count") > 3
    # The SLO thresholds are bucket bounds, as the rules expect them.
    assert label_values(samples, f"{TTFT}_bucket", "le") >= {"0.8"}
    assert label_values(samples, f"{ITL}_bucket", "le") >= {"0.08"}
    assert total(samples, f"{TOKENS}_count", gen_ai_token_type="input") == 4
    assert total(samples, f"{TOKENS}_sum", gen_ai_token_type="output") > 0
    assert total(samples, "llmkit_client_finish_reasons_total") == 4
    assert total(samples, "llmkit_client_time_per_output_token_seconds_count") == 3


def test_a_failed_call_counts_with_its_error_type(engine: EngineHandle) -> None:
    from llmkit import LLMCallError
    from llmkit.llm import RetryPolicy

    llmkit_watch.enable()
    server = llmkit_watch.serve_metrics(0)
    engine.set_faults(http_500=1.0)
    with Client(
        base_url=engine.base_url, model=engine.config.model, retry=RetryPolicy(max_attempts=1)
    ) as client:
        with pytest.raises(LLMCallError):
            client.chat("hello")
    samples = scrape(server.url)
    errors = label_values(samples, f"{DURATION}_count", "error_type")
    assert errors and "" not in errors
    assert total(samples, f"{TOKENS}_count") == 0


def test_structured_outcomes_and_rules_are_counted(make_engine: Any) -> None:
    from llmkit.cli._demo import _ticket_schema

    engine = make_engine(faults=Faults(malformed=0.5), seed=3)
    llmkit_watch.enable()
    server = llmkit_watch.serve_metrics(0)
    schema = _ticket_schema()
    with Client(base_url=engine.base_url, model=engine.config.model) as client:
        results = [
            client.structured(
                f"Extract the support ticket #{i} as YAML",
                schema,
                max_tokens=400,
                template=("ticket", "2"),
            )
            for i in range(12)
        ]
    samples = scrape(server.url)
    by_stage = {
        stage: total(samples, "llmkit_structured_outcomes_total", llmkit_structured_stage=stage)
        for stage in ("clean", "repaired", "reprompted", "failed")
    }
    assert by_stage == {s: sum(r.stage == s for r in results) for s in by_stage}
    assert by_stage["clean"] < len(results), "the malformed answers must show in other stages"
    assert label_values(samples, "llmkit_structured_outcomes_total", "llmkit_prompt_name") == {
        "ticket"
    }
    fired = sum(len(r.repairs) for r in results)
    assert total(samples, "llmkit_structured_rules_total") == fired
    assert total(samples, "llmkit_structured_reprompts_total") == sum(
        r.attempts - 1 for r in results
    )


def test_spans_carry_the_genai_attributes_and_no_content_unless_asked(
    engine: EngineHandle,
) -> None:
    provider, exporter = _spans()
    llmkit_watch.enable("none", tracer_provider=provider)
    with Client(base_url=engine.base_url, model=engine.config.model) as client:
        result = client.chat("secret question", template=("triage", "7"), max_tokens=8)
    (span,) = exporter.get_finished_spans()
    assert span.name == f"chat {engine.config.model}"
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == engine.config.model
    assert attrs["gen_ai.response.model"] == result.model
    assert tuple(attrs["gen_ai.response.finish_reasons"]) == (result.finish_reason,)  # type: ignore[arg-type]
    assert attrs["gen_ai.usage.output_tokens"] == result.timing.output_tokens
    assert (attrs["llmkit.prompt.name"], attrs["llmkit.prompt.version"]) == ("triage", "7")
    assert not any("secret" in str(v) for v in attrs.values())
    assert span.end_time is not None and span.start_time is not None
    assert span.end_time > span.start_time

    provider, exporter = _spans()
    llmkit_watch.enable("none", tracer_provider=provider, capture_content=True)
    with Client(base_url=engine.base_url, model=engine.config.model) as client:
        client.chat("secret question", max_tokens=8)
    (span,) = exporter.get_finished_spans()
    assert "secret question" in str((span.attributes or {})["gen_ai.input.messages"])


def test_async_calls_are_recorded_too(engine: EngineHandle) -> None:
    provider, exporter = _spans()
    llmkit_watch.enable("none", tracer_provider=provider)

    async def run() -> None:
        async with AsyncClient(base_url=engine.base_url, model=engine.config.model) as client:
            await asyncio.gather(*(client.chat(f"q{i}", max_tokens=4) for i in range(3)))

    asyncio.run(run())
    assert len(exporter.get_finished_spans()) == 3


def test_latest_semconv_opt_in_switches_to_the_inference_names(
    engine: EngineHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http,gen_ai_latest_experimental")
    llmkit_watch.enable()
    server = llmkit_watch.serve_metrics(0)
    with Client(base_url=engine.base_url, model=engine.config.model) as client:
        client.chat("hello", max_tokens=5)
    names = {name for name, _ in scrape(server.url)}
    assert "gen_ai_client_inference_duration_seconds_count" in names
    assert "gen_ai_client_inference_time_to_first_chunk_seconds_count" in names
    assert "gen_ai_client_inference_usage_output_tokens_sum" in names
    assert not any(n.startswith("gen_ai_client_operation") for n in names)


def test_an_unbounded_attribute_is_refused_with_a_warning(engine: EngineHandle) -> None:
    llmkit_watch.enable(max_attribute_values=3)
    server = llmkit_watch.serve_metrics(0)
    with Client(base_url=engine.base_url, model=engine.config.model) as client:
        with pytest.warns(CardinalityWarning, match="llmkit.prompt.name"):
            for i in range(6):
                client.chat("hi", template=(f"user-{i}", "1"), max_tokens=2)
    samples = scrape(server.url)
    assert label_values(samples, f"{DURATION}_count", "llmkit_prompt_name") == {
        "user-0",
        "user-1",
        "user-2",
        "_other",
    }
    assert total(samples, f"{DURATION}_count") == 6
    # One warning per attribute, not one per call.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Client(base_url=engine.base_url, model=engine.config.model) as client:
            client.chat("hi", template=("user-9", "1"), max_tokens=2)


def test_a_failing_observer_never_fails_the_call(
    engine: EngineHandle, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def on_call(self, event: Any) -> None:
            raise RuntimeError("boom")

        def on_structured(self, event: Any) -> None:
            raise RuntimeError("boom")

        def on_eval_score(self, event: Any) -> None:
            raise RuntimeError("boom")

    broken = Broken()
    _observe.OBSERVERS.append(broken)
    try:
        with Client(base_url=engine.base_url, model=engine.config.model) as client:
            assert client.chat("hello", max_tokens=3).text
    finally:
        _observe.OBSERVERS.remove(broken)
    assert "boom" in caplog.text


def test_variants_are_sticky_weighted_and_recorded(engine: EngineHandle, tmp_path: Any) -> None:
    weights = {"A": 0.9, "B": 0.1}
    picks = [llmkit_watch.variant(f"user-{i}", weights) for i in range(4000)]
    assert picks == [llmkit_watch.variant(f"user-{i}", weights) for i in range(4000)]
    share_b = picks.count("B") / len(picks)
    assert 0.08 < share_b < 0.12
    # Reordering the mapping moves no one; a known key keeps its variant across releases.
    assert llmkit_watch.variant("user-7", {"B": 0.1, "A": 0.9}) == picks[7]
    assert llmkit_watch.variant("alice", weights) == "A"
    assert llmkit_watch.variant("user-1", weights, experiment="other") in weights

    llmkit_watch.enable()
    server = llmkit_watch.serve_metrics(0)
    db = tmp_path / "calls.db"
    with Client(base_url=engine.base_url, model=engine.config.model, log=db) as client:
        with llmkit_watch.using_variant("B"):
            client.chat("one", max_tokens=2)
        with llmkit_watch.using_variant(None):
            client.chat("two", max_tokens=2)
    assert list(read_log(db)["variant"].fillna("-")) == ["B", "-"]
    assert label_values(scrape(server.url), f"{DURATION}_count", "llmkit_variant") == {"B", ""}


@pytest.mark.parametrize(
    "weights", [{}, {"A": -1}, {"A": 0, "B": 0}, {"A": float("nan")}, {"A": "x"}]
)
def test_bad_weights_are_refused(weights: dict[str, Any]) -> None:
    from llmkit import ConfigError

    with pytest.raises(ConfigError, match="variant"):
        llmkit_watch.variant("k", weights)


def test_eval_scores_are_recorded_per_suite_and_scorer() -> None:
    from pathlib import Path

    from llmkit.evals import load_suite, run_suite

    suite = Path(__file__).resolve().parents[2] / "prompts" / "support_ticket.eval.yaml"
    llmkit_watch.enable()
    server = llmkit_watch.serve_metrics(0)
    run = run_suite(load_suite(suite), "replay")
    samples = scrape(server.url)
    assert total(samples, "llmkit_eval_score_count") == len(run.records)
    assert total(samples, "llmkit_eval_score_sum") == pytest.approx(
        sum(r.score for r in run.records)
    )
    assert label_values(samples, "llmkit_eval_score_count", "llmkit_eval_scorer") == {
        r.scorer for r in run.records
    }


def test_without_the_extra_the_rest_works_and_enable_says_what_to_install() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "sys.modules['prometheus_client'] = None\n"
        "import io\n"
        "from llmkit.cli._common import console\n"
        "import llmkit.watch as w\n"
        "assert 'groups' in w.rules_yaml(w.parse_slo('ttft_p95=1s'), w.names())\n"
        "assert w.run_demo(console(io.StringIO()), quick=True) == {'skipped': "
        "\"llmkit.watch needs the watch extra: pip install 'llmkit[watch]'\"}\n"
        "try:\n"
        "    w.enable()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "MissingExtraError" in done.stdout and "pip install 'llmkit[watch]'" in done.stdout
