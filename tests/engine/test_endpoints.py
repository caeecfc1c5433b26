"""Endpoints, the wire format of plain answers, and clear error codes."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from llmkit._tokens import count_tokens
from llmkit.engine import EngineHandle

from ._http import chat, request


def test_models_lists_the_model_and_aliases(make_engine: Any) -> None:
    eng = make_engine(aliases=("other-model",))
    reply = request(eng, "/models", method="GET")
    assert reply.status == 200
    assert [m["id"] for m in reply.json()["data"]] == ["llmkit-sim", "other-model"]


def test_chat_completion_plain_json(engine: EngineHandle) -> None:
    reply = request(engine, "/chat/completions", chat(engine, "hello there"))
    assert reply.status == 200
    data = reply.json()
    assert data["id"].startswith("chatcmpl-") and data["object"] == "chat.completion"
    choice = data["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    text = choice["message"]["content"]
    # usage is an offline cl100k count of exactly what was sent
    assert data["usage"]["completion_tokens"] == count_tokens(text)
    assert data["usage"]["total_tokens"] == data["usage"]["prompt_tokens"] + count_tokens(text)


def test_completions_endpoint_with_the_openai_sdk(engine: EngineHandle) -> None:
    client = openai.OpenAI(base_url=engine.base_url, api_key="unused", max_retries=0)
    done = client.completions.create(model="llmkit-sim", prompt="ping", max_tokens=50)
    assert done.id.startswith("cmpl-") and done.choices[0].text == "pong"
    parts = [
        c.choices[0].text
        for c in client.completions.create(model="llmkit-sim", prompt="ping", stream=True)
    ]
    assert "".join(parts) == "pong"


def test_ids_are_unique(engine: EngineHandle) -> None:
    ids = {request(engine, "/chat/completions", chat(engine)).json()["id"] for _ in range(5)}
    assert len(ids) == 5


def test_unknown_model_is_404_in_openai_shape(engine: EngineHandle) -> None:
    reply = request(engine, "/chat/completions", {**chat(engine), "model": "gpt-nope"})
    assert reply.status == 404
    err = reply.json()["error"]
    assert err["code"] == "model_not_found" and "gpt-nope" in err["message"] and err["type"]
    client = openai.OpenAI(base_url=engine.base_url, api_key="x", max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="gpt-nope", messages=[{"role": "user", "content": "hi"}]
        )


def test_api_key_is_required_when_set(make_engine: Any) -> None:
    eng = make_engine(api_key="s3cret")
    assert request(eng, "/chat/completions", chat(eng)).status == 401
    assert request(eng, "/models", method="GET").status == 401
    bad = request(eng, "/chat/completions", chat(eng), headers={"Authorization": "Bearer wrong"})
    assert bad.status == 401 and bad.json()["error"]["code"] == "invalid_api_key"
    assert "s3cret" not in bad.body.decode()
    ok = request(eng, "/chat/completions", chat(eng), headers={"Authorization": "Bearer s3cret"})
    assert ok.status == 200
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=eng.base_url, api_key="nope", max_retries=0).models.list()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"model": "llmkit-sim"}', "messages"),
        (b'{"model": "llmkit-sim", "messages": []}', "messages"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "model"),
        (b'{"model": "llmkit-sim", "messages": ["hi"]}', "messages[0]"),
        (b'{"model": "llmkit-sim", "messages": [{"content": "x"}]}', "role"),
        (b'{"model": "llmkit-sim", "messages": [{"role": "user", "content": 5}]}', "content"),
        (
            b'{"model": "llmkit-sim", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}',
            "max_tokens",
        ),
        (
            b'{"model": "llmkit-sim", "messages": [{"role": "user", "content": "x"}], "max_tokens": "9"}',
            "max_tokens",
        ),
        (
            b'{"model": "llmkit-sim", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}',
            "stream",
        ),
        (b'{"model": "llmkit-sim", "messages": [{"role": "user", "content": "x"}], "n": 2}', "n=1"),
        (
            b'{"model": "llmkit-sim", "messages": [{"role": "user", "content": "x"}], "stream_options": 1}',
            "stream_options",
        ),
        (b"\xff\xfe", "JSON"),
    ],
)
def test_bad_requests_are_clear_400s(engine: EngineHandle, body: bytes, needle: str) -> None:
    reply = request(engine, "/chat/completions", raw=body)
    assert reply.status == 400
    err = reply.json()["error"]
    assert needle in err["message"] and err["type"] == "invalid_request_error"
    assert "Traceback" not in reply.body.decode()


def test_completions_need_a_prompt(engine: EngineHandle) -> None:
    reply = request(engine, "/completions", {"model": "llmkit-sim", "prompt": {"x": 1}})
    assert reply.status == 400 and "prompt" in reply.json()["error"]["message"]
    ok = request(
        engine, "/completions", {"model": "llmkit-sim", "prompt": [1, 2, 3], "max_tokens": 4}
    )
    assert ok.status == 200 and ok.json()["usage"]["prompt_tokens"] == 3


def test_huge_body_is_413_json(make_engine: Any) -> None:
    eng = make_engine(max_body_bytes=4096)
    reply = request(eng, "/chat/completions", chat(eng, "x" * 10_000))
    assert reply.status == 413
    assert "too large" in reply.json()["error"]["message"]


def test_unknown_path_and_method_are_json_errors(engine: EngineHandle) -> None:
    reply = request(engine, "/nothing", method="GET")
    assert reply.status == 404 and reply.json()["error"]["message"]
    reply = request(engine, "/chat/completions", method="GET")
    assert reply.status == 405 and "POST" in reply.headers.get("allow", "")


def test_content_parts_and_system_messages(engine: EngineHandle) -> None:
    body = {
        "model": "llmkit-sim",
        "messages": [
            {"role": "system", "content": "Answer in YAML."},
            {"role": "user", "content": [{"type": "text", "text": "My order is late."}]},
        ],
    }
    reply = request(engine, "/chat/completions", body)
    assert reply.status == 200 and reply.headers["x-llmkit-rule"] == "ticket-yaml-system"
