"""Replay meets cases in any order, whichever of them recorded a server refusing
``stream_options`` (the client stops sending it after the first refusal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from llmkit.evals._cassettes import CassetteError
from llmkit.evals._transport import NoRecording, Tape

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
WITH = {**BODY, "stream_options": {"include_usage": True}}
REFUSAL = (400, '{"detail": "stream_options is not supported"}')
ANSWER = (200, 'data: {"choices": [{"delta": {"content": "ok"}}]}\n\ndata: [DONE]\n\n')


def _interaction(body: dict[str, Any], answer: tuple[int, str]) -> dict[str, Any]:
    return {
        "request": {
            "method": "POST",
            "uri": "http://127.0.0.1:8000/v1/chat/completions",
            "body": json.dumps(body),
            "headers": {},
        },
        "response": {
            "status": {"code": answer[0], "message": ""},
            "headers": {"content-type": ["text/event-stream" if answer[0] == 200 else "application/json"]},
            "body": {"string": answer[1]},
        },
    }  # fmt: skip


def _tape(*interactions: tuple[dict[str, Any], tuple[int, str]]) -> Tape:
    data = {"interactions": [_interaction(b, a) for b, a in interactions], "version": 1}
    return Tape(Path("case.yaml"), data)


def _send(tape: Tape, body: dict[str, Any]) -> int:
    request = httpx2.Request(
        "POST", "http://127.0.0.1:9/v1/chat/completions", content=json.dumps(body).encode()
    )
    return tape.play(request).status_code


def test_the_recorded_refusal_then_the_answer_play_as_recorded() -> None:
    tape = _tape((WITH, REFUSAL), (BODY, ANSWER))
    assert [_send(tape, WITH), _send(tape, BODY)] == [400, 200]
    assert tape.all_played()


def test_a_client_that_already_learnt_passes_over_the_refusal() -> None:
    tape = _tape((WITH, REFUSAL), (BODY, ANSWER))
    assert _send(tape, BODY) == 200
    assert tape.all_played() and tape.unplayed() == 0


def test_a_case_recorded_after_the_refusal_answers_a_client_that_still_asks() -> None:
    tape = _tape((BODY, ANSWER))
    assert _send(tape, WITH) == 200 and tape.all_played()


def test_a_case_recorded_before_the_refusal_answers_a_client_that_stopped_asking() -> None:
    tape = _tape((WITH, ANSWER))
    assert _send(tape, BODY) == 200 and tape.all_played()


def test_anything_else_that_differs_still_has_no_recording() -> None:
    tape = _tape((WITH, ANSWER))
    with pytest.raises(NoRecording, match="no recording"):
        _send(tape, {**WITH, "max_tokens": 5})
    with pytest.raises(NoRecording, match="no recording"):
        _send(tape, {**BODY, "messages": [{"role": "user", "content": "bye"}]})


def test_each_recording_still_answers_once() -> None:
    tape = _tape((BODY, ANSWER))
    assert _send(tape, WITH) == 200
    with pytest.raises(NoRecording, match="no further answer"):
        _send(tape, BODY)


def test_a_miss_leaves_the_tape_as_it_was() -> None:
    tape = _tape((WITH, REFUSAL))
    with pytest.raises(NoRecording):
        _send(tape, BODY)  # a refusal answers only a request that still sends the field
    assert _send(tape, WITH) == 400  # and the miss did not use it up


def test_a_response_body_that_is_no_mapping_is_a_malformed_cassette() -> None:
    data = {"interactions": [_interaction(BODY, ANSWER)], "version": 1}
    data["interactions"][0]["response"]["body"] = "text"
    with pytest.raises(CassetteError, match="malformed interaction 0"):
        Tape(Path("case.yaml"), data)
