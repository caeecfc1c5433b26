"""One OpenTelemetry span per client call, named ``{operation} {model}``.

The span is written when the call ends, with the call's own start and end times, so the
client never holds a span open across the caller's code. Message content goes on the span
only when the user opted in (``capture_content=True``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llmkit._observe import CallEvent
from llmkit.watch._names import ATTR

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["SpanRecorder"]


class SpanRecorder:
    def __init__(self, tracer: Tracer, provider: str, capture_content: bool) -> None:
        self.tracer = tracer
        self.provider = provider
        self.capture_content = capture_content

    def on_call(self, event: CallEvent) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        attrs: dict[str, Any] = {
            ATTR.OPERATION: event.operation,
            ATTR.PROVIDER: self.provider,
            ATTR.REQUEST_MODEL: event.request_model,
        }
        optional = {
            ATTR.RESPONSE_MODEL: event.response_model,
            ATTR.SERVER_ADDRESS: event.server_address,
            ATTR.SERVER_PORT: event.server_port,
            ATTR.INPUT_TOKENS: event.input_tokens,
            ATTR.OUTPUT_TOKENS: event.output_tokens,
            ATTR.ERROR_TYPE: event.error_type,
            ATTR.VARIANT: event.variant,
        }
        attrs.update({k: v for k, v in optional.items() if v is not None})
        if event.finish_reason is not None:
            attrs[ATTR.FINISH_REASONS] = [event.finish_reason]
        if event.prompt is not None:
            attrs[ATTR.PROMPT_NAME], attrs[ATTR.PROMPT_VERSION] = event.prompt
        if self.capture_content:
            attrs[ATTR.INPUT_MESSAGES] = json.dumps(list(event.messages), default=str)
            if event.error_type is None:
                attrs[ATTR.OUTPUT_MESSAGES] = json.dumps(
                    [{"role": "assistant", "content": event.output_text}]
                )
        start_ns = int(event.started_wall * 1e9)
        span = self.tracer.start_span(
            f"{event.operation} {event.request_model}",
            kind=SpanKind.CLIENT,
            attributes=attrs,
            start_time=start_ns,
        )
        if event.error_type is not None:
            span.set_status(Status(StatusCode.ERROR, event.error_type))
        span.end(end_time=start_ns + int(event.duration_s * 1e9))
