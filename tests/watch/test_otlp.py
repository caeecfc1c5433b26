"""OTLP over HTTP to a small collector stand-in on 127.0.0.1 (Prometheus 2.42 has no OTLP
receiver): the protobuf bodies are decoded with the OpenTelemetry proto classes."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from llmkit import ConfigError
from llmkit import watch as llmkit_watch
from llmkit.engine import EngineHandle
from llmkit.llm import Client


class Receiver:
    def __init__(self) -> None:
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.traces: list[ExportTraceServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path == "/v1/metrics":
                    receiver.metrics.append(ExportMetricsServiceRequest.FromString(body))
                elif self.path == "/v1/traces":
                    receiver.traces.append(ExportTraceServiceRequest.FromString(body))
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def metric_names(self) -> set[str]:
        return {
            m.name
            for request in self.metrics
            for rm in request.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
        }

    def spans(self) -> list[Any]:
        return [
            span
            for request in self.traces
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def test_metrics_and_spans_reach_an_otlp_http_collector(
    receiver: Receiver, engine: EngineHandle
) -> None:
    watch = llmkit_watch.enable("otlp", otlp_endpoint=receiver.url, export_interval_s=3600)
    with Client(base_url=engine.base_url, model=engine.config.model) as client:
        client.chat("hello", max_tokens=6)
        client.chat("again", max_tokens=6)
    watch.flush()
    assert {
        "gen_ai.client.operation.duration",
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.time_to_first_chunk",
        "gen_ai.client.operation.time_per_output_chunk",
        "llmkit.client.time_per_output_token",
    } <= receiver.metric_names()
    spans = receiver.spans()
    assert [s.name for s in spans] == [f"chat {engine.config.model}"] * 2
    keys = {a.key for a in spans[0].attributes}
    assert {"gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model"} <= keys


def test_otlp_without_an_endpoint_is_misuse() -> None:
    with pytest.raises(ConfigError, match="otlp_endpoint"):
        llmkit_watch.enable("otlp")
    with pytest.raises(ConfigError, match="exporter"):
        llmkit_watch.enable("statsd")  # type: ignore[arg-type]
