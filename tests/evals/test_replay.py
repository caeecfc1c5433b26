"""Replay, record and regression: the example suite through ``llmkit eval``."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmkit.cli._demo_eval import worsen_suite
from llmkit.engine import EngineHandle
from llmkit.evals import load_suite, run_suite
from llmkit.evals._cassettes import canonical_body, load_cassette

from .conftest import SUITE
from .helpers import llmkit


def test_unchanged_example_suite_replays_and_exits_0() -> None:
    ran = llmkit("eval", str(SUITE), "--json")
    assert ran.code == 0, ran.err
    summary = json.loads(ran.out)
    assert summary["exit_code"] == 0
    assert summary["pass_rate"] == 1.0
    assert summary["cases"] == len(load_suite(SUITE).cases)
    assert summary["per_case"]["repeat-sampling"]["scores"]["tags_known"]["n"] == 3


def test_replay_opens_no_socket(suite_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("replay tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.delenv("LLMKIT_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    run = run_suite(load_suite(suite_copy), "replay")
    assert run.errors == []
    assert run.pass_rate == 1.0


def test_worse_prompt_recorded_then_replayed_exits_1_naming_the_cases(
    suite_copy: Path, tmp_path: Path, engine: EngineHandle
) -> None:
    worse = worsen_suite(suite_copy, tmp_path / "worse")
    ran = llmkit(
        "eval", str(worse), "--mode", "record", "--base-url", engine.base_url, "--api-key", "k"
    )
    assert ran.code == 1, ran.err
    # the variant's cassettes are its own; replaying them reproduces the verdict offline
    assert len(list((tmp_path / "worse" / "cassettes" / "support_ticket").glob("*.yaml"))) == 11
    ran = llmkit("eval", str(worse), "--json")
    assert ran.code == 1
    summary = json.loads(ran.out)
    assert summary["pass_rate"] < 1.0
    failing = [c for c, v in summary["per_case"].items() if not v["passed"]]
    assert failing
    assert "below min_pass_rate" in ran.err
    for case in failing:
        assert case in ran.err


def test_worse_prompt_against_committed_baseline_names_the_regression(
    suite_copy: Path, tmp_path: Path, engine: EngineHandle
) -> None:
    pytest.importorskip("llmkit.evals._baseline")
    baseline = Path(__file__).resolve().parents[2] / "prompts" / "support_ticket.baseline.json"
    if not baseline.exists():
        pytest.skip("the example suite's baseline is committed with the baseline module")
    worse = worsen_suite(suite_copy, tmp_path / "worse")
    # min_pass_rate 0: only the paired test against the baseline can fail the build
    worse.write_text(worse.read_text().replace("min_pass_rate: 1.0", "min_pass_rate: 0"))
    assert llmkit("eval", str(worse), "--mode", "record", "--base-url", engine.base_url).code in (
        0,
        1,
    )
    ran = llmkit("eval", str(worse), "--baseline", str(baseline))
    assert ran.code == 1, ran.err
    assert "regression" in ran.err
    assert llmkit("eval", str(suite_copy), "--baseline", str(baseline)).code == 0


def test_missing_recording_exits_2_naming_the_case(suite_copy: Path) -> None:
    (suite_copy.parent.parent / "cassettes" / "support_ticket" / "wrong-size.yaml").unlink()
    ran = llmkit("eval", str(suite_copy))
    assert ran.code == 2
    assert "case wrong-size" in ran.err
    assert "no recording" in ran.err


def test_changed_case_input_has_no_recording_exits_2(suite_copy: Path) -> None:
    text = suite_copy.read_text()
    suite_copy.write_text(text.replace("I need a replacement.", "I need a refund."))
    ran = llmkit("eval", str(suite_copy))
    assert ran.code == 2
    assert "case wrong-size" in ran.err
    assert "--refresh wrong-size" in ran.err
    assert ran.err.count("llmkit eval: case ") == 1


def test_changed_prompt_body_never_replays_an_old_cassette(suite_copy: Path) -> None:
    # one character of the template: every request body differs, so nothing may replay
    text = suite_copy.read_text()
    suite_copy.write_text(
        text.replace("into tickets, written as YAML.", "into tickets, written as YAML!")
    )
    run = run_suite(load_suite(suite_copy), "replay")
    assert len(run.errors) == len(run.cases)
    assert all("no recording" in e for e in run.errors)
    assert run.summary()["exit_code"] == 2


def test_settings_change_is_part_of_the_body(suite_copy: Path) -> None:
    text = suite_copy.read_text()
    suite_copy.write_text(text.replace("max_tokens: 400", "max_tokens: 401"))
    run = run_suite(load_suite(suite_copy), "replay", tags=["smoke"])
    assert len(run.errors) == 2


def test_body_matching_ignores_key_order_and_spacing_only() -> None:
    a = '{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'
    b = '{"messages":[{"content":"hi","role":"user"}],"model":"m"}'
    c = '{"messages":[{"content":"hi!","role":"user"}],"model":"m"}'
    assert canonical_body(a) == canonical_body(b)
    assert canonical_body(a) != canonical_body(c)


def test_replay_works_whatever_url_it_was_recorded_against(suite_copy: Path) -> None:
    directory = suite_copy.parent.parent / "cassettes" / "support_ticket"
    for path in directory.glob("*.yaml"):
        path.write_text(
            path.read_text().replace(
                "http://127.0.0.1:18431/v1/", "https://proxy.example:9443/team/openai/v1/"
            )
        )
    assert "proxy.example" in (directory / "wrong-size.yaml").read_text()
    run = run_suite(load_suite(suite_copy), "replay")
    assert run.errors == []


def test_unplayed_interaction_exits_2(suite_copy: Path) -> None:
    path = suite_copy.parent.parent / "cassettes" / "support_ticket" / "charged-twice.yaml"
    data = load_cassette(path)
    data["interactions"].append(data["interactions"][0])
    path.write_text(yaml.safe_dump(data))
    ran = llmkit("eval", str(suite_copy), "--tags", "smoke")
    assert ran.code == 2
    assert "case charged-twice" in ran.err
    assert "unplayed" in ran.err


def test_record_scrubs_the_key_and_times_the_stream_beneath_vcrpy(
    suite_copy: Path, make_engine: Any
) -> None:
    secret = "sk-test-0123456789abcdefSECRET"
    engine = make_engine(api_key=secret, decode_step_ms=4.0)
    ran = llmkit(
        "eval",
        str(suite_copy),
        "--mode",
        "record",
        "--base-url",
        engine.base_url,
        "--api-key",
        secret,
        "--refresh",
        "wrong-size",
    )
    assert ran.code == 0, ran.err
    path = suite_copy.parent.parent / "cassettes" / "support_ticket" / "wrong-size.yaml"
    text = path.read_text()
    assert secret not in text
    assert "authorization" not in text.lower()
    assert "x-stainless" not in text.lower()
    (timing,) = load_cassette(path)["metadata"]["llmkit"]["timings"]
    # streamed through the transport: the first token came well before the end, and the
    # gaps between tokens are the engine's configured decode step (4 ms), not zero
    assert timing["ttft_ms"] < timing["e2e_ms"] / 2
    assert timing["itl_ms_mean"] >= 4.0 * 0.8
    assert timing["output_tokens"] > 10


def test_refresh_rerecords_only_the_named_case(suite_copy: Path, engine: EngineHandle) -> None:
    directory = suite_copy.parent.parent / "cassettes" / "support_ticket"
    before = {p.name: p.read_text() for p in directory.glob("*.yaml")}
    ran = llmkit(
        "eval", str(suite_copy), "--refresh", "charged-twice", "--base-url", engine.base_url
    )
    assert ran.code == 0, ran.err
    after = {p.name: p.read_text() for p in directory.glob("*.yaml")}
    changed = sorted(n for n in before if before[n] != after[n])
    assert changed == ["charged-twice.yaml"]


def test_unknown_refresh_case_and_bad_mode_exit_2(suite_copy: Path) -> None:
    ran = llmkit("eval", str(suite_copy), "--refresh", "nope")
    assert ran.code == 2
    assert "no case 'nope'" in ran.err
    # --refresh CASE...: later words are more cases, checked before anything is called
    ran = llmkit("eval", str(suite_copy), "--refresh", "wrong-size", "charged-twice", "nope2")
    assert ran.code == 2
    assert "no case 'nope2'" in ran.err
    assert llmkit("eval", str(suite_copy), "--mode", "bogus").code == 2
    assert llmkit("eval", str(suite_copy.parent / "missing.eval.yaml")).code == 2


def test_every_committed_cassette_is_free_of_secrets() -> None:
    repo = Path(__file__).resolve().parents[2]
    paths = [*repo.glob("cassettes/**/*.yaml")]  # the build ships these: committed once
    assert len(paths) >= 11
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lowered = text.lower()
        for marker in (
            "authorization",
            "api-key",
            "x-api-key",
            "x-stainless",
            "user-agent",
            "cookie",
            "bearer ",
        ):
            assert marker not in lowered, f"{path}: {marker}"
        assert not __import__("re").search(
            r"sk-[A-Za-z0-9_-]{8,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}", text
        ), path
        for interaction in load_cassette(path)["interactions"]:
            uri = interaction["request"]["uri"]
            assert "@" not in uri.split("/")[2], f"{path}: credentials in {uri}"
            assert not __import__("re").search(
                r"(?i)[?&](api[-_]?key|key|token)=(?!REDACTED|\*\*\*)", uri
            ), uri


def test_scrubbing_removes_credentials() -> None:
    from llmkit.evals import scrub_text, scrub_uri
    from llmkit.evals._cassettes import scrub_headers

    assert scrub_uri("https://user:pw@api.example.com:8443/v1/chat?api_key=abc&x=1") == (
        "https://api.example.com:8443/v1/chat?api_key=***&x=1"
    )
    headers = {
        "Authorization": ["Bearer sk-abcdefghijkl"],
        "X-Stainless-Lang": ["python"],
        "User-Agent": ["OpenAI/Python 3"],
        "api-key": ["k"],
        "Content-Type": ["application/json"],
        "X-Custom": ["token sk-abcdefghijkl123"],
    }
    assert scrub_headers(headers) == {
        "content-type": ["application/json"],
        "x-custom": ["token ***"],
    }
    assert scrub_text("key is my-own-secret here", "my-own-secret") == "key is *** here"


def test_live_mode_writes_nothing(suite_copy: Path, engine: EngineHandle) -> None:
    directory = suite_copy.parent.parent / "cassettes" / "support_ticket"
    before = {p.name: p.read_text() for p in directory.glob("*.yaml")}
    ran = llmkit("eval", str(suite_copy), "--mode", "live", "--base-url", engine.base_url, "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["mode"] == "live"
    assert {p.name: p.read_text() for p in directory.glob("*.yaml")} == before


def test_concurrent_recording_files_each_call_under_its_own_case(
    suite_copy: Path, tmp_path: Path, engine: EngineHandle
) -> None:
    worse = worsen_suite(suite_copy, tmp_path / "worse")
    llmkit("eval", str(worse), "--mode", "record", "-c", "8", "--base-url", engine.base_url)
    suite = load_suite(worse)
    for case in suite.cases:
        data = load_cassette(suite.cassette_dir / f"{case.id}.yaml")
        assert data["metadata"]["llmkit"]["case"] == case.id
        first = data["interactions"][0]["request"]["body"]
        # the case's own message is in its first request, no other case's message is
        assert case.vars["message"] in first
        others = [
            c.vars["message"] for c in suite.cases if c.vars["message"] != case.vars["message"]
        ]
        assert not any(m in first for m in others)


def test_a_recorded_retry_replays_without_waiting(suite_copy: Path, make_engine: Any) -> None:
    from llmkit.engine import Faults

    engine = make_engine(faults=Faults(script=("429", "ok"), retry_after_s=0.5))
    ran = llmkit("eval", str(suite_copy), "--refresh", "wrong-size", "--base-url", engine.base_url)
    assert ran.code == 0, ran.err
    path = suite_copy.parent.parent / "cassettes" / "support_ticket" / "wrong-size.yaml"
    codes = [i["response"]["status"]["code"] for i in load_cassette(path)["interactions"]]
    assert codes == [429, 200]
    run = run_suite(load_suite(suite_copy), "replay", cases=["wrong-size"])
    assert run.errors == []
    assert run.pass_rate == 1.0  # the replayed 429 was retried (Retry-After stripped, no sleep)
