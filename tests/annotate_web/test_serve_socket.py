"""The socket ``llmkit annotate serve`` hands uvicorn: every accepted connection has Nagle off.

Without it a page written as headers then body waited for the client's delayed ACK, 40 ms
on every keep-alive request (asyncio only turns Nagle off on sockets made with
``IPPROTO_TCP``), which alone broke the rating page's 50 ms p95.
"""

from __future__ import annotations

import socket

import pytest

from llmkit.cli._annotate_serve import listening_socket


def test_accepted_connections_have_nagle_off() -> None:
    server = listening_socket("127.0.0.1", 0)
    server.listen()
    with server, socket.create_connection(server.getsockname()[:2]) as _client:
        conn, _ = server.accept()
        with conn:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_port_in_use_is_an_os_error_and_leaks_no_socket() -> None:
    first = listening_socket("127.0.0.1", 0)
    first.listen()
    with first:
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", first.getsockname()[1])
