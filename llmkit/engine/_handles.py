"""Run the engine in a background thread or a subprocess (for tests, demos, benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from llmkit._exceptions import ConfigError
from llmkit.engine._config import EngineConfig, Faults
from llmkit.engine._sendlog import SendRecord, read_send_log
from llmkit.engine._server import Engine

__all__ = [
    "EngineHandle",
    "EngineProcess",
    "config_to_args",
    "start_engine",
    "start_engine_process",
]

_READY = re.compile(r"ready on (?P<url>https?://\S+)")


class EngineHandle:
    """An engine serving from a background thread with its own event loop.

    Use as a context manager, or call :meth:`stop`. Attributes: ``base_url``
    (``http://127.0.0.1:PORT/v1``), ``host``, ``port``, ``engine``.
    """

    def __init__(
        self, engine: Engine, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ) -> None:
        self.engine = engine
        self._loop = loop
        self._thread = thread
        self._stopped = False
        self.base_url = engine.base_url
        self.host = engine.host
        self.port = engine.port

    @property
    def config(self) -> EngineConfig:
        """The configuration the engine runs with."""
        return self.engine.config

    @property
    def url(self) -> str:
        """The server root (without ``/v1``)."""
        return self.base_url.removesuffix("/v1")

    def send_log(self) -> list[SendRecord]:
        """Every chunk written so far (needs ``send_log=True`` in the config)."""
        return self.engine.send_log()

    def clear_send_log(self) -> None:
        """Forget the recorded send times (between test phases)."""
        self.engine.clear_send_log()

    def requests_served(self) -> int:
        """Completion requests that passed auth and validation (injected faults included)."""
        return self.engine.requests_served()

    def set_faults(self, faults: Faults | None = None, **rates: Any) -> None:
        """Replace the fault settings of the running engine (see :meth:`Engine.set_faults`)."""
        self.engine.set_faults(faults, **rates)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its thread (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        loop = self._loop
        if loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self.engine.stop(), loop)
            with contextlib.suppress(Exception):
                fut.result(timeout)
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout)

    def __enter__(self) -> EngineHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EngineHandle({self.base_url!r})"


def _thread_main(
    engine: Engine,
    loop: asyncio.AbstractEventLoop,
    host: str,
    port: int,
    ready: threading.Event,
    box: list[BaseException],
) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(engine.start(host, port))
    except BaseException as exc:  # reported to the starting thread
        box.append(exc)
        ready.set()
        loop.close()
        return
    ready.set()
    try:
        loop.run_forever()
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def start_engine(
    config: EngineConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> EngineHandle:
    """Start an engine in a background thread; returns once it accepts connections.

    Args:
        config: engine configuration (``EngineConfig()`` when ``None``).
        host: interface to bind.
        port: port to bind (0: a free one).

    Raises:
        ConfigError: the scenario is invalid or the address cannot be bound.
    """
    engine = Engine(config)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: list[BaseException] = []
    thread = threading.Thread(
        target=_thread_main,
        args=(engine, loop, host, port, ready, box),
        name="llmkit-engine",
        daemon=True,
    )
    thread.start()
    ready.wait()
    if box:
        thread.join(5)
        raise box[0]
    return EngineHandle(engine, loop, thread)


def _fmt(value: float) -> str:
    return repr(float(value))


def config_to_args(config: EngineConfig) -> list[str]:
    """``llmkit serve`` options that reproduce ``config`` (host and port excluded)."""
    c = config
    args = [
        "--model", c.model,
        "--seed", str(c.seed),
        "--tokens-per-chunk", str(c.tokens_per_chunk),
        "--role-chunk" if c.role_chunk else "--no-role-chunk",
        "--prefill-ms-per-token", _fmt(c.prefill_ms_per_token),
        "--decode-step-ms", _fmt(c.decode_step_ms),
        "--decode-ms-per-seq", _fmt(c.decode_ms_per_seq),
        "--decode-ms-per-kv-token", _fmt(c.decode_ms_per_kv_token),
        "--max-batch", str(c.max_batch),
        "--max-model-len", str(c.max_model_len),
        "--max-body-bytes", str(c.max_body_bytes),
    ]  # fmt: skip
    for alias in c.aliases:
        args += ["--alias", alias]
    if c.api_key is not None:
        args += ["--api-key", c.api_key]
    if c.scenario is not None:
        args += ["--scenario", str(c.scenario)]
    if c.send_log_path is not None:
        args += ["--send-log", str(c.send_log_path)]
    f = c.faults
    for opt, rate in (
        ("--fault-429", f.http_429),
        ("--fault-500", f.http_500),
        ("--fault-cut", f.cut),
        ("--fault-stall", f.stall),
        ("--fault-garbage", f.garbage),
        ("--fault-non-json", f.non_json),
        ("--fault-malformed", f.malformed),
    ):
        if rate:
            args += [opt, _fmt(rate)]
    if f.retry_after_s is not None:
        args += ["--retry-after", _fmt(f.retry_after_s)]
    args += ["--stall-s", _fmt(f.stall_s)]
    if f.malformed_kinds:
        args += ["--malformed-kinds", ",".join(f.malformed_kinds)]
    if f.script:
        args += ["--fault-script", ",".join(f.script)]
    return args


class EngineProcess:
    """``llmkit serve`` running as a subprocess. Use as a context manager or call :meth:`stop`.

    Attributes:
        base_url: ``http://127.0.0.1:PORT/v1`` from the ready line.
        ready_line: the line the server printed.
        proc: the ``subprocess.Popen``.
        send_log_path: the JSONL send log file, if one was asked for.
    """

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        base_url: str,
        ready_line: str,
        send_log_path: Path | None,
        stderr: IO[bytes],
    ) -> None:
        self.proc = proc
        self.base_url = base_url
        self.ready_line = ready_line
        self.send_log_path = send_log_path
        self._stderr = stderr
        self._finalizer = weakref.finalize(self, _reap, proc, stderr)

    @property
    def pid(self) -> int:
        """The engine subprocess's process id."""
        return self.proc.pid

    def send_log(self) -> list[SendRecord]:
        """Records of the JSONL send log written so far (flushed whenever the engine idles)."""
        if self.send_log_path is None or not self.send_log_path.exists():
            return []
        return read_send_log(self.send_log_path)

    def stderr_text(self) -> str:
        """What the server wrote to stderr so far."""
        self._stderr.flush()
        with open(self._stderr.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait, SIGKILL if needed; returns the exit status."""
        self._finalizer()
        return self.proc.returncode

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EngineProcess(pid={self.proc.pid}, {self.base_url!r})"


def _reap(proc: subprocess.Popen[bytes], stderr: IO[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
    name = stderr.name
    stderr.close()
    with contextlib.suppress(OSError):
        os.unlink(name)


def start_engine_process(
    config: EngineConfig | None = None,
    *,
    args: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int = 0,
    python: str | None = None,
    startup_timeout_s: float = 30.0,
    env: dict[str, str] | None = None,
) -> EngineProcess:
    """Start ``python -m llmkit serve`` and wait for its ready line.

    Args:
        config: turned into command-line options (see :func:`config_to_args`); ``None``
            leaves the server's defaults.
        args: further ``llmkit serve`` options, appended last (they win).
        host: interface to bind.
        port: port (0: a free one).
        python: interpreter (defaults to ``sys.executable``).
        startup_timeout_s: how long to wait for the ready line.
        env: environment for the child (defaults to this one's).

    Raises:
        ConfigError: the server exited or printed no ready line in time (its stderr included).
    """
    cmd = [python or sys.executable, "-m", "llmkit", "serve", "--host", host, "--port", str(port)]
    if config is not None:
        cmd += config_to_args(config)
    cmd += list(args)
    send_log: Path | None = None
    if config is not None and config.send_log_path is not None:
        send_log = Path(config.send_log_path)
    if "--send-log" in args:
        send_log = Path(list(args)[list(args).index("--send-log") + 1])
    stderr = tempfile.NamedTemporaryFile(prefix="llmkit-serve-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=env
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + startup_timeout_s
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            byte = os.read(proc.stdout.fileno(), 1)  # one byte at a time: never read past the line
            if not byte:
                break
            line += byte
    text = line.decode("utf-8", "replace").strip()
    m = _READY.search(text)
    if m is None:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError), open(stderr.name, "rb") as f:
            text += "\n" + f.read().decode("utf-8", "replace")
        _reap(proc, stderr)
        raise ConfigError(f"llmkit serve did not become ready: {text.strip() or 'no output'}")
    return EngineProcess(proc, m.group("url"), text, send_log, stderr)
