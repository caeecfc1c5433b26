"""Transport errors mapped by type, not by name (issue 8); URL credentials never shown."""

from __future__ import annotations

import base64
import http.server
import json
import sqlite3
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpcore2
import httpx2
import openai
import pytest

import llmkit
from llmkit.llm import Client, RetryPolicy, read_log
from llmkit.llm._client import _unwrap
from llmkit.llm._errors import AttemptFailed, classify

SECRET = "s3cret-KEY-424242"


def _connection_error(cause: BaseException) -> openai.APIConnectionError:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    try:
        try:
            raise cause
        except BaseException as inner:
            raise openai.APIConnectionError(request=request) from inner
    except openai.APIConnectionError as outer:
        return outer


@pytest.mark.parametrize(
    ("cause", "kind"),
    [
        (httpx2.ConnectError("[Errno 111] Connection refused"), llmkit.ConnectError),
        # "closed" in the text once made this a cut response; its type says connect.
        (httpx2.ConnectError("connection closed during TLS handshake"), llmkit.ConnectError),
        (ssl.SSLError("certificate verify failed"), llmkit.ConnectError),
        (httpx2.RemoteProtocolError("peer closed connection"), llmkit.BadResponseError),
        (httpx2.ReadError("boom"), llmkit.BadResponseError),
        (anyio.EndOfStream(), llmkit.BadResponseError),
        (httpx2.ReadTimeout("slow"), llmkit.CallTimeoutError),
    ],
)
def test_connection_errors_are_mapped_by_the_type_of_their_cause(
    cause: BaseException, kind: type[Exception]
) -> None:
    failed = classify(_connection_error(cause))
    assert failed.kind is kind and failed.retryable


class ReadTimeoutBudgetExceeded(Exception):
    """Not a transport error, whatever its name says."""


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpcore2.ReadTimeout("x"), llmkit.CallTimeoutError),
        (httpx2.PoolTimeout("x"), llmkit.CallTimeoutError),
        (httpx2.RemoteProtocolError("x"), llmkit.BadResponseError),
        (anyio.BrokenResourceError(), llmkit.BadResponseError),
        (ConnectionResetError(104, "reset"), llmkit.BadResponseError),
        (ReadTimeoutBudgetExceeded("x"), None),
        (type("ProtocolError", (Exception,), {})("x"), None),
    ],
)
def test_raw_transport_errors_are_mapped_by_type_not_name(
    exc: Exception, kind: type[Exception] | None
) -> None:
    mapped = _unwrap(exc)
    if kind is None:
        assert mapped is exc  # a look-alike name is not a transport error
    else:
        assert isinstance(mapped, AttemptFailed) and mapped.kind is kind


def test_url_credentials_are_not_in_repr() -> None:
    client = Client(base_url=f"http://alice:{SECRET}@127.0.0.1:9/v1", model="m")
    assert SECRET not in repr(client) and "alice:***@127.0.0.1:9" in repr(client)
    assert SECRET not in repr(client.endpoint)
    token_client = Client(base_url=f"https://{SECRET}@example.invalid/v1", model="m")
    assert SECRET not in repr(token_client) and "***@example.invalid" in repr(token_client)


def test_url_credentials_are_not_in_config_errors() -> None:
    with pytest.raises(llmkit.ConfigError) as info:
        Client(base_url=f"ftp://alice:{SECRET}@host/v1", model="m")
    assert SECRET not in str(info.value)


def test_url_credentials_are_not_in_error_messages(free_port: int) -> None:
    url = f"http://alice:{SECRET}@127.0.0.1:{free_port}/v1"
    with Client(base_url=url, model="m", retry=RetryPolicy(max_attempts=2, initial_wait=0)) as c:
        with pytest.raises(llmkit.ConnectError) as info:
            c.chat("Hello")
    assert SECRET not in str(info.value) and SECRET not in info.value.endpoint
    assert f"127.0.0.1:{free_port}" in str(info.value)


def test_url_credentials_are_not_in_the_log(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    eng = make_engine()
    url = eng.base_url.replace("http://", f"http://alice:{SECRET}@")
    db = tmp_path / "calls.db"
    with Client(base_url=url, model="llmkit-sim", log=db) as client:
        assert client.chat("Hello", max_tokens=4).text
        with pytest.raises(llmkit.ModelNotFoundError) as info:
            client.chat("Hello", model="nope", max_tokens=4)
    assert SECRET not in str(info.value)
    frame = read_log(db)
    assert len(frame) == 2
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert SECRET not in dump and "alice:***@" in dump


class _EchoAuth(http.server.BaseHTTPRequestHandler):
    """A proxy gone wrong: the 401 body and a header quote the request's Authorization."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        auth = self.headers.get("Authorization", "")
        body = json.dumps({"error": {"message": f"denied {auth}"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", auth)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_url_credentials_echoed_as_basic_auth_are_redacted(tmp_path: Path) -> None:
    # The HTTP library sends ``user:pass@`` as ``Basic base64(user:pass)``; an echo of
    # that header must not carry the password out in base64 (nor percent-decoded).
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoAuth)
    # poll every 50 ms: shutdown() waits out one poll (0.5 s by default)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    password = "p%40ss-" + SECRET  # percent-encoded in the URL, sent decoded
    url = f"http://alice:{password}@127.0.0.1:{server.server_address[1]}/v1"
    basic = base64.b64encode(f"alice:p@ss-{SECRET}".encode()).decode()
    db = tmp_path / "calls.db"
    try:
        with Client(base_url=url, model="m", log=db) as client:
            with pytest.raises(llmkit.AuthError) as info:
                client.chat("Hello")
    finally:
        server.shutdown()
        server.server_close()
    assert "denied" in str(info.value)
    dump = "\n".join(sqlite3.connect(db).iterdump())
    for text in (str(info.value), repr(info.value), dump):
        assert basic not in text and SECRET not in text
