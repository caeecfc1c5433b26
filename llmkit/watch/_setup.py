"""Turn the watch on and off: metrics and spans, exported by Prometheus scrape, OTLP, or not.

Off by default. :func:`enable` adds one observer to ``llmkit._observe``; every client call,
structured outcome and eval score then reaches the OpenTelemetry SDK.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llmkit import _observe
from llmkit._exceptions import ConfigError
from llmkit._observe import CallEvent, EvalScoreEvent, StructuredEvent
from llmkit.extras import install_command, require_extra
from llmkit.watch._drift import DriftReport
from llmkit.watch._guard import AttributeGuard
from llmkit.watch._metrics import MetricsRecorder, bucket_views
from llmkit.watch._names import ATTR, Names, names
from llmkit.watch._slo import Slo, parse_slo
from llmkit.watch._spans import SpanRecorder

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

__all__ = [
    "MetricsServer",
    "Watch",
    "current",
    "disable",
    "enable",
    "publish_drift",
    "serve_metrics",
]

Exporter = Literal["prometheus", "otlp", "none"]
INSTALL_HINT = f"llmkit.watch needs the watch extra: {install_command('watch')}"

_lock = threading.Lock()
_current: Watch | None = None


@dataclass
class Watch:
    """The running watch: its providers, recorders and (for Prometheus) its reader."""

    names: Names
    slo: Slo
    meter_provider: MeterProvider
    tracer_provider: TracerProvider | None
    metrics: MetricsRecorder
    spans: SpanRecorder | None
    owns_providers: bool
    prometheus_reader: Any = None
    servers: list[MetricsServer] = field(default_factory=list)
    # signal -> (adjusted p-value, Jensen-Shannon distance) of the last published drift report
    drift: dict[str, tuple[float, float]] = field(default_factory=dict)

    def on_call(self, event: CallEvent) -> None:
        """Record one finished client call (metrics, and a span when spans are on)."""
        self.metrics.on_call(event)
        if self.spans is not None:
            self.spans.on_call(event)

    def on_structured(self, event: StructuredEvent) -> None:
        """Record one structured call's outcome."""
        self.metrics.on_structured(event)

    def on_eval_score(self, event: EvalScoreEvent) -> None:
        """Record one eval score."""
        self.metrics.on_eval_score(event)

    def flush(self) -> None:
        """Push what is buffered (OTLP) now rather than at the next interval."""
        self.meter_provider.force_flush()
        if self.tracer_provider is not None:
            self.tracer_provider.force_flush()


def _require_sdk() -> None:
    require_extra("llmkit.watch", "watch")


def enable(
    exporter: Exporter = "prometheus",
    *,
    otlp_endpoint: str | None = None,
    slo: str | Slo | None = None,
    provider: str = "openai",
    capture_content: bool = False,
    tracer_provider: TracerProvider | None = None,
    export_interval_s: float = 10.0,
    max_attribute_values: int = 100,
    latest_semconv: bool | None = None,
) -> Watch:
    """Record metrics (and spans) for every call from now on; returns the running :class:`Watch`.

    Args:
        exporter: ``prometheus`` (scrape it with :func:`serve_metrics`), ``otlp`` (HTTP to
            a collector at ``otlp_endpoint``, e.g. ``http://127.0.0.1:4318``) or ``none``
            (recorded, not exported: read it through the returned providers).
        slo: the same ``--slo`` text given to ``llmkit watch rules``: its thresholds become
            histogram bucket bounds so the rules count exactly.
        provider: ``gen_ai.provider.name`` (the API spoken; ``openai`` for compatible servers).
        capture_content: put messages and answers on spans (off: they may hold personal data).
        tracer_provider: record spans there (else, with ``otlp``, spans go to the collector;
            with the other exporters no spans are made).
        max_attribute_values: distinct values per attribute before ``_other``.
        latest_semconv: the newer ``gen_ai.client.inference.*`` names; default from
            ``OTEL_SEMCONV_STABILITY_OPT_IN``.
    """
    global _current
    _require_sdk()
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader

    if exporter not in ("prometheus", "otlp", "none"):
        raise ConfigError(f"exporter={exporter!r}: expected prometheus, otlp or none")
    if exporter == "otlp" and not otlp_endpoint:
        raise ConfigError("exporter='otlp' needs otlp_endpoint (e.g. http://127.0.0.1:4318)")
    parsed = slo if isinstance(slo, Slo) else parse_slo(slo)
    chosen = names(latest_semconv)
    with _lock:
        _disable_locked()
        readers: list[MetricReader] = []
        prometheus_reader = None
        if exporter == "prometheus":
            from opentelemetry.exporter.prometheus import PrometheusMetricReader

            prometheus_reader = PrometheusMetricReader()
            readers.append(prometheus_reader)
        elif exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

            base = str(otlp_endpoint).rstrip("/")
            readers.append(
                PeriodicExportingMetricReader(
                    OTLPMetricExporter(endpoint=f"{base}/v1/metrics"),
                    export_interval_millis=export_interval_s * 1000,
                )
            )
            if tracer_provider is None:
                tracer_provider = _otlp_tracer(base)
        else:
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader

            readers.append(InMemoryMetricReader())
        meter_provider = MeterProvider(metric_readers=readers, views=bucket_views(chosen, parsed))
        guard = AttributeGuard(max_values=max_attribute_values)
        meter = meter_provider.get_meter("llmkit")
        spans = (
            SpanRecorder(tracer_provider.get_tracer("llmkit"), provider, capture_content)
            if tracer_provider is not None
            else None
        )
        watch = Watch(
            names=chosen,
            slo=parsed,
            meter_provider=meter_provider,
            tracer_provider=tracer_provider,
            metrics=MetricsRecorder(meter, chosen, provider, guard),
            spans=spans,
            owns_providers=True,
            prometheus_reader=prometheus_reader,
        )
        _drift_gauges(meter, watch)
        _current = watch
        _observe.OBSERVERS.append(watch)
        return watch


def _drift_gauges(meter: Any, watch: Watch) -> None:
    from opentelemetry.metrics import CallbackOptions, Observation

    def observe(index: int) -> Any:
        def callback(options: CallbackOptions) -> list[Observation]:
            return [
                Observation(values[index], {ATTR.SIGNAL: signal})
                for signal, values in watch.drift.items()
            ]

        return callback

    meter.create_observable_gauge(
        watch.names.drift_p_value,
        callbacks=[observe(0)],
        unit="1",
        description="Adjusted p-value of the last drift check, per signal",
    )
    meter.create_observable_gauge(
        watch.names.drift_effect,
        callbacks=[observe(1)],
        unit="1",
        description="Jensen-Shannon distance of the last drift check, per signal",
    )


def publish_drift(report: DriftReport) -> None:
    """Expose a drift report's p-values and effect sizes as gauges of the running watch."""
    watch = _current
    if watch is None:
        raise ConfigError("publish_drift: the watch is off (call llmkit.watch.enable first)")
    watch.drift = {
        s.signal: (float(s.p_adjusted), float(s.jensen_shannon or 0.0))
        for s in report.signals
        if s.p_adjusted is not None
    }


def _otlp_tracer(base: str) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces"))
    )
    return tracer_provider


def current() -> Watch | None:
    """The running watch, or ``None`` when it is off."""
    return _current


def _disable_locked() -> None:
    global _current
    watch = _current
    if watch is None:
        return
    _current = None
    if watch in _observe.OBSERVERS:
        _observe.OBSERVERS.remove(watch)
    for server in list(watch.servers):
        server.close()
    # Shutting down also unregisters the Prometheus reader's collector.
    watch.meter_provider.shutdown()


def disable() -> None:
    """Stop recording; shut down the exporters and any metrics endpoint."""
    with _lock:
        _disable_locked()


class MetricsServer:
    """A Prometheus scrape endpoint (``/metrics``) on ``host:port``; :meth:`close` stops it."""

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host, self.port = server.server_address[:2]

    @property
    def url(self) -> str:
        """The address to scrape."""
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        watch = _current
        if watch is not None and self in watch.servers:
            watch.servers.remove(self)


def serve_metrics(
    port: int = 9464, host: str = "127.0.0.1", slo: str | Slo | None = None
) -> MetricsServer:
    """Serve this process's metrics for Prometheus to scrape (enables the watch if it is off).

    ``port=0`` picks a free port (read it from the returned server's ``port``).
    """
    _require_sdk()
    from prometheus_client import REGISTRY, start_http_server

    watch = _current
    if watch is None or watch.prometheus_reader is None:
        watch = enable("prometheus", slo=slo)
    server, thread = start_http_server(port, addr=host, registry=REGISTRY)
    handle = MetricsServer(server, thread)
    watch.servers.append(handle)
    return handle
