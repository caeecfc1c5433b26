"""End to end: a real ``prometheus`` scrapes llmkit's endpoint and evaluates the generated
rules; the embedded engine turns bad mid-run and the alert is seen firing through
Prometheus's HTTP API."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmkit import LLMCallError
from llmkit import watch as llmkit_watch
from llmkit.engine import EngineHandle
from llmkit.llm import Client, RetryPolicy

from ._prom import binary

SLO = "ttft_p95=800ms,itl_p95=80ms,error_rate=2%"
WAIT_S = 90  # an upper bound for a busy machine, never an assertion about speed


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class Prometheus:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = _get(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        return list(data["data"]["result"])

    def alerts(self) -> list[dict[str, Any]]:
        return list(_get(f"{self.url}/api/v1/alerts")["data"]["alerts"])

    def wait_for(self, what: str, check: Any, tick: Any = None) -> Any:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if tick is not None:
                tick()
            found = check()
            if found:
                return found
            time.sleep(0.5)
        raise AssertionError(f"{what}: not seen within {WAIT_S} s\n{self.log.read_text()[-3000:]}")


@pytest.fixture
def prometheus(tmp_path: Path, free_port: int) -> Iterator[tuple[Prometheus, int]]:
    """Prometheus on a free port, scraping a metrics port chosen here, with our rules."""
    llmkit_watch.enable(slo=SLO)
    metrics = llmkit_watch.serve_metrics(0)
    rules = tmp_path / "rules.yml"
    rules.write_text(llmkit_watch.rules_yaml(llmkit_watch.parse_slo(SLO), llmkit_watch.names()))
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(rules)],
                "scrape_configs": [
                    {
                        "job_name": "llmkit",
                        "static_configs": [{"targets": [f"127.0.0.1:{metrics.port}"]}],
                    }
                ],
            }
        )
    )
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{free_port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(proc, f"http://127.0.0.1:{free_port}", log)
    try:

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"{server.url}/-/ready", timeout=5) as r:
                    return r.status == 200
            except (urllib.error.URLError, OSError):
                assert proc.poll() is None, log.read_text()
                return False

        server.wait_for("prometheus ready", ready)
        yield server, metrics.port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_prometheus_scrapes_llmkit_and_the_alert_fires_when_the_engine_turns_bad(
    prometheus: tuple[Prometheus, int], engine: EngineHandle
) -> None:
    server, _ = prometheus
    client = Client(
        base_url=engine.base_url, model=engine.config.model, retry=RetryPolicy(max_attempts=1)
    )
    with client:

        def good_calls() -> None:
            client.chat("hello", max_tokens=8)

        # Healthy traffic reaches Prometheus; the latency SLO's bucket matches exactly
        # (the recording rule has a value only if le="0.8" exists).
        server.wait_for(
            "the TTFT miss ratio recorded",
            lambda: server.query("llmkit:ttft_p95:miss_ratio_rate5m"),
            tick=good_calls,
        )
        assert float(server.query("llmkit:ttft_p95:miss_ratio_rate5m")[0]["value"][1]) == 0.0
        assert not [
            a for a in server.alerts() if a["labels"]["alertname"] == "LLMErrorRateBurnFast"
        ]

        engine.set_faults(http_500=1.0)

        def bad_calls() -> None:
            for _ in range(5):
                with pytest.raises(LLMCallError):
                    client.chat("hello", max_tokens=8)

        def firing() -> list[dict[str, Any]]:
            return [
                a
                for a in server.alerts()
                if a["labels"]["alertname"] == "LLMErrorRateBurnFast" and a["state"] == "firing"
            ]

        (alert,) = server.wait_for("LLMErrorRateBurnFast firing", firing, tick=bad_calls)
    assert alert["labels"]["severity"] == "page"
    ratio = server.query("llmkit:error_rate:miss_ratio_rate5m")
    assert float(ratio[0]["value"][1]) > 0.288
