"""``llmkit chat``: one prompt to an endpoint, with the answer and what the call measured."""

from __future__ import annotations

import sys
from typing import Any

import click

from llmkit.cli._common import console, fail_cleanly, json_option, print_json

__all__ = ["chat"]


@click.command()
@click.argument("prompt", required=False)
@click.option("--base-url", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1.")
@click.option("--model", help="Model name (else LLMKIT_MODEL / OPENAI_MODEL).")
@click.option("--api-key", help="API key (else LLMKIT_API_KEY / OPENAI_API_KEY). Never printed.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--temperature", type=float, default=None)
@click.option("--no-stream", is_flag=True, help="Ask for one JSON body instead of a stream.")
@click.option("--log/--no-log", "log", default=None, help="Append the call to the call log.")
@json_option
def chat(
    prompt: str | None,
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    max_tokens: int,
    temperature: float | None,
    no_stream: bool,
    log: bool | None,
    as_json: bool,
) -> None:
    """Send PROMPT (or standard input) and print the answer, its timing and attempts."""
    from llmkit.llm import Client

    text = prompt if prompt is not None else sys.stdin.read()
    params: dict[str, Any] = {"max_tokens": max_tokens}
    if temperature is not None:
        params["temperature"] = temperature
    with fail_cleanly(), Client(base_url, api_key, model, log=log) as client:
        result = client.chat(text, stream=not no_stream, **params)
    if as_json:
        print_json(result.to_dict())
        return
    out = console()
    out.print(result.text, markup=False, highlight=False)

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    t = result.timing
    out.print(
        f"[dim]finish={result.finish_reason} tokens={t.output_tokens}"
        f"{' (approx.)' if t.tokens_approximate else ''} attempts={len(result.attempts)} "
        f"TTFB={fmt(t.ttfb_ms)}ms TTFT={fmt(t.ttft_ms)}ms TPOT={fmt(t.tpot_ms)}ms "
        f"E2E={fmt(t.e2e_ms)}ms[/]"
    )
