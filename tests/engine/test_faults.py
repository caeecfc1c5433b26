"""Fault injection: each kind, the script, the header override, rates, runtime changes."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import openai
import pytest
import yaml

from llmkit.engine import MALFORMERS, EngineHandle, Faults, malform

from ._http import chat, request


def _post(eng: EngineHandle, fault: str | None = None, stream: bool = True, **fields: Any) -> Any:
    headers = {"x-llmkit-fault": fault} if fault else None
    body = chat(eng, fields.pop("content", "tell me a story"), stream=stream, **fields)
    return request(eng, "/chat/completions", body, headers=headers)


def test_429_has_retry_after_fractional(make_engine: Any) -> None:
    eng = make_engine(faults=Faults(retry_after_s=0.2))
    reply = _post(eng, "429")
    assert reply.status == 429 and reply.headers["retry-after"] == "0.2"
    assert reply.json()["error"]["code"] == "rate_limit_exceeded"
    assert [r.kind for r in eng.send_log()] == ["error"]


def test_500(engine: EngineHandle) -> None:
    reply = _post(engine, "500")
    assert reply.status == 500 and reply.json()["error"]["type"] == "server_error"


def test_non_json_body(engine: EngineHandle) -> None:
    reply = _post(engine, "non_json", stream=False)
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError):
        json.loads(reply.body)


def test_cut_stream_has_no_done(engine: EngineHandle) -> None:
    reply = _post(engine, "cut", max_tokens=50, ignore_eos=True)
    assert not reply.complete
    assert "[DONE]" not in reply.body.decode()
    sent = [r for r in engine.send_log() if r.kind == "output"]
    assert 1 <= len(sent) < 50 and all(r.fault == "cut" for r in sent)
    client = openai.OpenAI(base_url=engine.base_url, api_key="x", max_retries=0)
    with pytest.raises(openai.APIError):  # the SDK sees a broken stream
        list(
            client.chat.completions.create(
                model="llmkit-sim",
                messages=[{"role": "user", "content": "x"}],
                stream=True,
                extra_headers={"x-llmkit-fault": "cut"},
            )
        )


def test_cut_plain_body(engine: EngineHandle) -> None:
    reply = _post(engine, "cut", stream=False)
    assert not reply.complete


def test_stall_pauses_mid_stream(make_engine: Any) -> None:
    eng = make_engine(faults=Faults(stall_s=0.3))
    reply = _post(eng, "stall", max_tokens=20, ignore_eos=True)
    assert reply.events[-1] == "[DONE]"
    times = [r.t_ns for r in eng.send_log() if r.kind in ("role", "output")]
    gaps = [(b - a) / 1e9 for a, b in itertools.pairwise(times)]
    # One pause of the stall's length (sleeps never end early), between chunks: counted,
    # not timed, since a loaded machine may stretch any gap a little but not to 0.3 s.
    stalls = [i for i, gap in enumerate(gaps) if gap >= 0.29]
    assert len(stalls) == 1 and 0 < stalls[0] < len(gaps) - 1, gaps


def test_garbage_lines_mixed_in(engine: EngineHandle) -> None:
    reply = _post(engine, "garbage", max_tokens=30, ignore_eos=True)
    bad = []
    for event in reply.events:
        try:
            json.loads(event) if event != "[DONE]" else None
        except ValueError:
            bad.append(event)
    assert bad and reply.events[-1] == "[DONE]"
    assert [r for r in engine.send_log() if r.kind == "garbage"]


@pytest.mark.parametrize("name", sorted(MALFORMERS))
def test_each_malformed_class(engine: EngineHandle, name: str) -> None:
    fmt = "yaml" if "yaml" in MALFORMERS[name].formats else "json"
    reply = _post(
        engine, f"malformed:{name}", stream=False, content=f"Extract the ticket as {fmt.upper()}."
    )
    assert reply.headers["x-llmkit-malformed"] == name
    data = reply.json()
    text = data["choices"][0]["message"]["content"]
    clean = _post(
        engine, None, stream=False, content=f"Extract the ticket as {fmt.upper()}."
    ).json()
    assert text != clean["choices"][0]["message"]["content"]
    if MALFORMERS[name].truncates:
        assert data["choices"][0]["finish_reason"] == "length"
    assert engine.send_log()[0].fault == f"malformed:{name}"


def test_malformed_random_class_is_recorded(make_engine: Any) -> None:
    eng = make_engine(faults=Faults(malformed=1.0))
    reply = _post(eng, stream=True, content="Give me YAML")
    name = reply.headers["x-llmkit-malformed"]
    assert name in MALFORMERS and "yaml" in MALFORMERS[name].formats
    assert {r.fault for r in eng.send_log()} == {f"malformed:{name}"}
    # plain-text answers have nothing to malform
    assert "x-llmkit-malformed" not in _post(eng, stream=False, content="hello").headers


def test_malformers_change_yaml_and_json() -> None:
    doc = {
        "title": "Box arrived broken",
        "priority": "high",
        "escalate": False,
        "address": {"city": "Porto", "postal_code": "12345"},
        "tags": ["a", "b"],
    }
    texts = {
        "yaml": yaml.safe_dump(doc, sort_keys=False).rstrip(),
        "json": json.dumps(doc, indent=2),
    }
    for m in MALFORMERS.values():
        assert m.func.__doc__ and "→" in m.func.__doc__, m.name
        for fmt in m.formats:
            out, applied = malform(texts[fmt], fmt, random.Random(1), m.name)
            assert applied is m and out != texts[fmt], (m.name, fmt)
    assert malform("plain", "text", random.Random(1))[1] is None


def test_script_then_rates_and_header_override(make_engine: Any) -> None:
    eng = make_engine(faults=Faults(script=("429", "500", "ok", "cut")))
    assert _post(eng).status == 429
    assert _post(eng, "ok").status == 200  # the header wins and consumes no entry
    assert _post(eng).status == 500
    assert _post(eng).status == 200
    assert not _post(eng, max_tokens=30, ignore_eos=True).complete
    assert all(_post(eng, stream=False).status == 200 for _ in range(3))  # script used up


def test_bad_fault_header_is_400(engine: EngineHandle) -> None:
    reply = _post(engine, "explode")
    assert reply.status == 400 and "unknown fault" in reply.json()["error"]["message"]


def test_set_faults_at_runtime(engine: EngineHandle) -> None:
    assert _post(engine).status == 200
    engine.set_faults(http_500=1.0)
    assert _post(engine).status == 500
    engine.set_faults(Faults(script=("429",)))
    assert _post(engine).status == 429 and _post(engine).status == 200


def test_rates_are_seeded_and_retries_draw_again(make_engine: Any) -> None:
    def statuses(eng: EngineHandle) -> list[int]:
        return [_post(eng, stream=False, content=f"q{i % 5}").status for i in range(40)]

    a = statuses(make_engine(seed=3, faults=Faults(http_429=0.5)))
    b = statuses(make_engine(seed=3, faults=Faults(http_429=0.5)))
    assert a == b and 8 < a.count(429) < 32
    # the same content asked again does not always get the same fault
    assert len({a[i] for i in range(0, 40, 5)}) == 2


def test_faults_validate() -> None:
    from llmkit._exceptions import ConfigError

    with pytest.raises(ConfigError):
        Faults(http_429=1.5)
    with pytest.raises(ConfigError):
        Faults(script=("boom",))
    with pytest.raises(ConfigError):
        Faults(malformed_kinds=("nope",))


def test_requests_served_counts_every_accepted_request(make_engine: Any) -> None:
    eng = make_engine(faults=Faults(script=("500", "429")))
    assert [_post(eng).status for _ in range(3)] == [500, 429, 200]
    assert request(eng, "/chat/completions", raw=b"{bad").status == 400
    assert eng.requests_served() == 3
