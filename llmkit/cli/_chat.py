"""``llmkit chat``: one prompt to an endpoint; the answer streams to stdout as it arrives.

stdout gets the answer only, byte for byte (no wrapping, no padding), so it can be piped;
what the call measured goes to stderr (or, with ``--json``, one JSON object to stdout).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from llmkit.cli._common import (
    BadInputError,
    fail_cleanly,
    json_option,
    print_json,
    require_endpoint,
)

__all__ = ["chat"]


def _ms(v: float | None) -> str:
    """``12.3ms``, or ``n/a`` where the call could not measure it (no stream: no TPOT)."""
    return "n/a" if v is None else f"{v:.1f}ms"


@click.command()
@click.argument("prompt", required=False)
@click.option("-s", "--system", help="System prompt sent before PROMPT.")
@click.option("--base-url", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1.")
@click.option("-m", "--model", help="Model name (else LLMKIT_MODEL / OPENAI_MODEL).")
@click.option("--api-key", help="API key (else LLMKIT_API_KEY / OPENAI_API_KEY). Never printed.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--temperature", type=float, default=None)
@click.option("--no-stream", is_flag=True, help="Ask for one JSON body instead of a stream.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds the whole call may take, retries included (default 600).",
)
@click.option("--log/--no-log", "log", default=None, help="Append the call to the call log.")
@json_option
def chat(
    prompt: str | None,
    system: str | None,
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    max_tokens: int,
    temperature: float | None,
    no_stream: bool,
    timeout: float | None,
    log: bool | None,
    as_json: bool,
) -> None:
    """Send PROMPT (or standard input) and print the answer as it arrives.

    The timing line (TTFB, TTFT, TPOT, E2E, tokens, attempts) goes to stderr.
    """
    from llmkit.llm import Client, Timeouts

    text = prompt if prompt is not None else _read_stdin()
    if not text.strip():
        raise BadInputError("no prompt: give PROMPT or pipe it on stdin")
    messages: list[dict[str, Any]] = [{"role": "user", "content": text}]
    if system:
        messages.insert(0, {"role": "system", "content": system})
    params: dict[str, Any] = {"max_tokens": max_tokens}
    if temperature is not None:
        params["temperature"] = temperature
    base_url = require_endpoint(base_url)
    model = model or _listed_model(base_url, api_key)
    timeouts = Timeouts(total=timeout) if timeout is not None else None
    out = sys.stdout
    printed = False
    with fail_cleanly():
        try:
            with Client(base_url, api_key, model, timeouts=timeouts, log=log) as client:
                if as_json or no_stream:
                    result = client.chat(messages, stream=not no_stream, **params)
                    if as_json:
                        print_json(result.to_dict())
                        return
                    out.write(result.text)
                    printed = True
                else:
                    with client.stream(messages, **params) as stream:
                        for delta in stream:
                            out.write(delta)
                            out.flush()
                            printed = True
                    assert stream.result is not None
                    result = stream.result
        finally:
            if printed:
                out.write("\n")  # end the answer's line, even when the stream broke
                out.flush()
    t = result.timing
    click.echo(
        f"finish={result.finish_reason} tokens={t.output_tokens}"
        f"{' (approx.)' if t.tokens_approximate else ''} attempts={len(result.attempts)} "
        f"TTFB={_ms(t.ttfb_ms)} TTFT={_ms(t.ttft_ms)} TPOT={_ms(t.tpot_ms)} E2E={_ms(t.e2e_ms)}",
        err=True,
    )


def _listed_model(base_url: str, api_key: str | None) -> str | None:
    """No model named anywhere: the first one the server lists, said on stderr (as bench
    does). ``None`` (and the client's own "no model given") when the list cannot be had."""
    import json
    import os
    import urllib.request

    if any(os.environ.get(v) for v in ("LLMKIT_MODEL", "OPENAI_MODEL")):
        return None
    if not base_url.startswith(("http://", "https://")):
        return None  # the client names what is wrong with it
    key = api_key or os.environ.get("LLMKIT_API_KEY") or os.environ.get("OPENAI_API_KEY")
    request = urllib.request.Request(base_url.rstrip("/") + "/models")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            listed = json.loads(response.read(1 << 20))["data"]
        model = str(listed[0]["id"])
    except (OSError, ValueError, LookupError, TypeError):
        return None
    click.echo(f"model: {model} (the first the server lists; choose with -m)", err=True)
    return model


def _read_stdin() -> str:
    """The prompt piped on stdin, as UTF-8 (a binary file is misuse, not a traceback)."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(
            f"stdin is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
