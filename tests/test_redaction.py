"""One set of secrets through every output path: none of them comes out anywhere.

An echoing server plays a proxy gone wrong: every other request is refused with a 401
whose body and headers quote the request's ``Authorization`` header and its path (query
string included), so each secret reaches the error texts too. The paths: the call log,
exception texts, the HTTP libraries' log records (console), bench's CSV, summary and
console, an eval cassette, and the annotation store (import and its error messages).
"""

from __future__ import annotations

import base64
import http.server
import itertools
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

import llmkit
from llmkit import Client
from llmkit._redact import public_url, redact_text, redact_url
from llmkit.cli._main import cli
from llmkit.llm import RetryPolicy

KEY = "sk-proj-Ab12Cd34Ef56Gh78Ij90"
PASSWORD = "PassW0rdXyz"
QUERY_KEY = "Qk7Rz2Lm9Wx4Tn6Vb3Yc"
SIG = "s1gn4ture"
SECRETS = [KEY, PASSWORD, QUERY_KEY, SIG, base64.b64encode(f"alice:{PASSWORD}".encode()).decode()]


class _Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counter: ClassVar[Iterator[int]] = itertools.count()
    seen_auth: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": "m", "object": "model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        auth = self.headers.get("Authorization", "")
        self.seen_auth.append(auth)
        if next(self.counter) % 2:
            message = f"denied {auth} for {self.path} via {self.headers.get('Host')}"
            self._json(401, {"error": {"message": message, "type": "auth", "code": None}})
        elif body.get("stream"):
            self._stream()
        else:
            self._json(200, _completion())

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", self.headers.get("Authorization", ""))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self) -> None:
        events = [
            {"id": "r", "model": "m", "object": "chat.completion.chunk", "created": 0,
             "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
            for word in ("title: ", "hello")
        ]  # fmt: skip
        events.append(
            {"id": "r", "model": "m", "object": "chat.completion.chunk", "created": 0,
             "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
        )  # fmt: skip
        data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        raw = data.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def _completion() -> dict[str, object]:
    return {
        "id": "r", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "title: hello"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }  # fmt: skip


@pytest.fixture
def echo() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    _Echo.seen_auth, _Echo.counter = [], itertools.count()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} holds {secret!r}"


def _files_text(directory: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("latin-1") for p in sorted(directory.rglob("*")) if p.is_file()
    )


def test_every_output_path_is_free_of_the_same_secrets(
    echo: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LLMKIT_API_KEY", "OPENAI_API_KEY", "LLMKIT_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.DEBUG)
    keyed = f"http://{echo}/v1?key={QUERY_KEY}&sig={SIG}"
    with_password = f"http://alice:{PASSWORD}@{echo}/v1?api_key={QUERY_KEY}"
    db = tmp_path / "calls.db"
    texts: list[tuple[str, str]] = []
    retry = RetryPolicy(max_attempts=1)
    # -- the client: its log, its errors, the HTTP libraries' log records ----------------
    for url, key in ((keyed, KEY), (with_password, None)):
        with Client(base_url=url, api_key=key, model="m", log=db, retry=retry) as client:
            texts.append(("repr", repr(client)))
            assert client.chat("hi").text == "title: hello"
            with pytest.raises(llmkit.LLMCallError) as info:
                client.chat("hi")
            texts += [("error", str(info.value)), ("endpoint", str(info.value.endpoint))]
    texts.append(("call log", "\n".join(sqlite3.connect(db).iterdump())))
    texts.append(("log records", "\n".join(r.getMessage() for r in caplog.records)))
    # -- bench: CSV, summary, console ------------------------------------------------------
    out = tmp_path / "bench"
    ran = CliRunner().invoke(
        cli,
        ["bench", "--base-url", keyed, "--api-key", KEY, "--model", "m", "-c", "1", "-n", "4",
         "--max-tokens", "4", "--prompt-tokens", "8", "-o", str(out), "--no-plots"],
    )  # fmt: skip
    assert (out / "requests.csv").exists() and (out / "summary.json").exists(), ran.output
    assert "401" in (out / "requests.csv").read_text() or "denied" in _files_text(out)
    texts += [("bench files", _files_text(out)), ("bench console", ran.output)]
    # -- an eval recording -------------------------------------------------------------------
    suite = tmp_path / "evals" / "s.eval.yaml"
    suite.parent.mkdir()
    suite.write_text(
        "name: s\nprompt:\n  messages:\n    - {role: user, content: 'say {{w}}'}\n"
        "model: {name: m}\nscorers: [{type: contains, value: hello}]\n"
        "cases:\n  - {id: one, vars: {w: a}}\n  - {id: two, vars: {w: b}}\n"
    )
    ran = CliRunner().invoke(
        cli, ["eval", str(suite), "--mode", "record", "--base-url", keyed, "--api-key", KEY]
    )
    cassettes = _files_text(tmp_path / "evals")
    assert "interactions" in cassettes, ran.output
    texts += [("cassettes", cassettes), ("eval console", ran.output)]
    # -- the annotation store: imported conversations and its error messages ----------------
    from llmkit.annotate import Store, import_jsonl

    line = {
        "id": "c1",
        "messages": [
            {"role": "user", "content": f"my key is {KEY}, the URL {with_password}"},
            {"role": "assistant", "content": f"Authorization: Basic {SECRETS[-1]} sig={SIG}"},
        ],
    }
    store_db = tmp_path / "store.db"
    with Store(store_db) as store:
        import_jsonl(store, [json.dumps(line)])
    texts.append(("annotation store", "\n".join(sqlite3.connect(store_db).iterdump())))
    with pytest.raises(llmkit.LLMKitError) as failed:
        Store(f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:1/db")
    texts += [("store error", str(failed.value)), ("store repr", repr(failed.value))]
    for where, text in texts:
        assert_clean(where, text)


def test_url_credentials_travel_as_basic_and_never_beside_a_bearer_key(echo: str) -> None:
    with Client(
        base_url=f"http://alice:{PASSWORD}@{echo}/v1", model="m", retry=RetryPolicy(1)
    ) as client:
        client.chat("hi")
    assert _Echo.seen_auth == ["Basic " + SECRETS[-1]]
    with pytest.raises(llmkit.ConfigError) as info:
        Client(base_url=f"http://alice:{PASSWORD}@{echo}/v1", api_key=KEY, model="m")
    message = str(info.value)
    assert "user:password@" in message and "api_key" in message
    assert_clean("config error", message)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://h/v1?key=abc&x=1", "http://h/v1?key=***&x=1"),
        ("http://h/v1?api_key=a&token=b&sig=c&signature=d&access_token=e&q=ok",
         "http://h/v1?api_key=***&token=***&sig=***&signature=***&access_token=***&q=ok"),
        ("http://h/v1?x=sk-abcdefgh12345678", "http://h/v1?x=***"),
        ("http://h/v1?id=Zx81Lq02Mn73Pr64Ks55", "http://h/v1?id=***"),
        ("http://h/v1?model=gpt-4o&n=2", "http://h/v1?model=gpt-4o&n=2"),
    ],
)  # fmt: skip
def test_query_values_are_redacted_by_name_and_by_likeness(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert public_url("http://u:p@" + url.removeprefix("http://")) == shown
    assert redact_text(f"GET {url} failed") == f"GET {shown} failed"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Authorization: Bearer abcDEF123456", "Authorization: Bearer ***"),
        ("Basic YWxpY2U6c2VjcmV0", "Basic ***"),
        ("HTTP Basic authentication required", "HTTP Basic authentication required"),
        ("status code=500, token=t0k3n-value", "status code=500, token=***"),
        ("see http://u:pw@h/x?q=1", "see http://***@h/x?q=1"),
    ],
)
def test_text_rules_leave_ordinary_words(text: str, shown: str) -> None:
    assert redact_text(text) == shown


def test_a_lone_user_is_a_token_over_http_and_a_name_in_a_database_url() -> None:
    assert redact_url("https://Tok3nValue99@h/v1") == "https://***@h/v1"
    assert redact_url("mysql://alice@127.0.0.1/ratings") == "mysql://alice@127.0.0.1/ratings"
    assert redact_url("postgresql://alice:pw@h/db") == "postgresql://alice:***@h/db"
