"""``Client`` and ``AsyncClient``: chat calls with timing, retries (tenacity) and a call log.

The openai SDK does the HTTP; it is built with ``max_retries=0`` so tenacity alone retries
and nothing is retried twice by two layers.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import random
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio
import openai
import tenacity

from llmkit import _observe
from llmkit._exceptions import CallTimeoutError, LLMCallError
from llmkit._redact import install_log_filter
from llmkit.llm._bodycap import (
    DEFAULT_MAX_RESPONSE_BYTES,
    SSE_DONE,
    CappedTransport,
    async_capped_transport,
    check_limit,
)
from llmkit.llm._config import Endpoint, RetryPolicy, Timeouts
from llmkit.llm._deadline import Budget, budget_transport, spending
from llmkit.llm._errors import AttemptFailed, classify, is_timeout, transport_error
from llmkit.llm._log import CallLog, LogTarget, open_log
from llmkit.llm._messages import Messages
from llmkit.llm._messages import as_messages as _as_messages
from llmkit.llm._observed import call_event
from llmkit.llm._result import Attempt, CallResult
from llmkit.llm._stream import AttemptState, is_json
from llmkit.llm._template import template_id as _template_id

if TYPE_CHECKING:
    import httpx2

    from llmkit.structured import StructuredResult

__all__ = ["AsyncClient", "ChatStream", "Client", "Messages"]

_logger = logging.getLogger("llmkit.llm")


@functools.cache
def _sdk_params() -> frozenset[str]:
    from openai.resources.chat.completions import Completions

    return frozenset(inspect.signature(Completions.create).parameters) - {"self"}


def _split_extra(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters the SDK does not know (``ignore_eos``, ``top_k``, ...) go in ``extra_body``."""
    known = _sdk_params()
    request = {k: v for k, v in params.items() if k in known}
    extra = {k: v for k, v in params.items() if k not in known}
    if extra:
        request["extra_body"] = {**extra, **dict(params.get("extra_body") or {})}
    return request


class _StopIfToldToWaitTooLong(tenacity.stop.stop_base):
    def __init__(self, plan: _CallPlan) -> None:
        self.plan = plan

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.plan.told_to_wait_too_long(retry_state)


class _CallPlan:
    """One logical call: the request, its deadline, the attempts so far, and the retry policy."""

    def __init__(
        self,
        owner: _BaseClient,
        request: dict[str, Any],
        stream: bool,
        template: tuple[str, str] | None = None,
    ) -> None:
        self.owner = owner
        self.request = request
        self.stream = stream
        self.template = template
        self.started_ns = time.perf_counter_ns()
        self.started_wall = time.time()
        self.deadline = time.monotonic() + owner.timeouts.total
        self.attempts: list[Attempt] = []
        self.state: AttemptState | None = None
        self.yielded = False
        self.variant = _observe.VARIANT.get()

    # -- tenacity policy ----------------------------------------------------------------------
    def retrying_kwargs(self) -> dict[str, Any]:
        policy = self.owner.retry
        return {
            "retry": tenacity.retry_if_exception(
                lambda e: isinstance(e, AttemptFailed) and e.retryable
            ),
            "stop": tenacity.stop_any(
                # First: stop_any stops at the first that says stop, and only this one
                # adds to the message why (a Retry-After beyond what is left).
                _StopIfToldToWaitTooLong(self),
                tenacity.stop_after_attempt(policy.max_attempts),
                tenacity.stop_before_delay(self.owner.timeouts.total),
            ),
            "wait": self._wait,
            "before_sleep": self._before_sleep,
            "reraise": True,
        }

    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        policy = self.owner.retry
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, AttemptFailed) and exc.retry_after is not None:
            return exc.retry_after  # the server said when: never sooner (see the stop below)
        backoff = min(policy.max_wait, policy.initial_wait * 2 ** (retry_state.attempt_number - 1))
        return random.uniform(0, backoff) if policy.jitter else backoff

    def told_to_wait_too_long(self, retry_state: tenacity.RetryCallState) -> bool:
        """Give up rather than retry before a ``Retry-After`` longer than we may wait."""
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if not isinstance(exc, AttemptFailed) or exc.retry_after is None:
            return False
        limit = min(self.owner.retry.max_wait, self.deadline - time.monotonic())
        if exc.retry_after <= limit:
            return False
        exc.message += f"; the server asked to retry after {exc.retry_after:g} s, more than the {limit:.3g} s allowed"
        return True

    def _before_sleep(self, retry_state: tenacity.RetryCallState) -> None:
        if self.attempts and retry_state.next_action is not None:
            self.attempts[-1] = replace(self.attempts[-1], wait_s=retry_state.next_action.sleep)

    # -- per attempt --------------------------------------------------------------------------
    def begin_attempt(self) -> tuple[AttemptState, dict[str, Any]]:
        t = self.owner.timeouts
        # The whole call shares one deadline; each attempt of a stream has its stall timer.
        budget = Budget(self.deadline, t.total, stall=t.stall if self.stream else None)
        remaining = budget.left()
        if remaining <= 0:
            raise AttemptFailed(CallTimeoutError, budget.message(), retryable=False)
        read = min(t.stall if self.stream else t.read, remaining)
        timeout = openai.Timeout(
            read, connect=min(t.connect, remaining), pool=min(t.connect, remaining)
        )
        self.state = AttemptState(sent_ns=time.perf_counter_ns(), budget=budget)
        return self.state, {**self.request, "timeout": timeout}

    def timed_out(self, budget: Budget) -> AttemptFailed:
        """The budget ran out: a stall may be retried, the call's deadline never."""
        budget.expire()
        return AttemptFailed(CallTimeoutError, budget.message(), retryable=budget.spent == "stall")

    def fail_attempt(self, exc: BaseException) -> AttemptFailed:
        budget = self.state.budget if self.state else None
        if budget is not None and budget.spent and not isinstance(exc, AttemptFailed):
            exc = self.timed_out(budget)  # whatever the HTTP stack called it, this is why
        failed = classify(exc, partial=self.yielded)
        state = self.state
        self.attempts.append(
            Attempt(
                number=len(self.attempts) + 1,
                started_ns=state.sent_ns if state else time.perf_counter_ns(),
                timing=state.timing(streamed=self.stream)
                if state and state.timer.first_byte_ns
                else None,
                error=self.owner.endpoint.redact(failed.message),
                error_type=failed.kind.__name__,
                status=failed.status,
            )
        )
        return failed

    def succeed_attempt(self) -> None:
        assert self.state is not None
        self.attempts.append(
            Attempt(
                number=len(self.attempts) + 1,
                started_ns=self.state.sent_ns,
                timing=self.state.timing(streamed=self.stream),
                status=200,
            )
        )

    # -- outcome ------------------------------------------------------------------------------
    def result(self, *, log: bool = True) -> CallResult:
        state = self.state
        assert state is not None
        result = CallResult(
            text=state.text,
            reasoning=state.reasoning,
            finish_reason=state.finish_reason,
            model=state.model or str(self.request.get("model")),
            response_id=state.response_id,
            usage=state.usage,
            timing=state.timing(streamed=self.stream, sent_ns=self.started_ns),
            attempts=tuple(self.attempts),
            request=self.loggable_request(),
        )
        if _observe.OBSERVERS:
            self._observed(result, None)
        if log:
            self.owner._log_call(self, result, None)
        return result

    def _observed(self, result: CallResult | None, error: LLMCallError | None) -> None:
        _observe.emit(call_event(self, result, error))

    def error(self, failed: AttemptFailed, *, log: bool = True) -> LLMCallError:
        endpoint = self.owner.endpoint
        failed.message = endpoint.redact(failed.message)
        error = failed.to_error(endpoint.safe_url, len(self.attempts))
        error.args = (endpoint.redact(str(error)),)
        if _observe.OBSERVERS:
            self._observed(None, error)
        if log:
            self.owner._log_call(self, None, error)
        return error

    def loggable_request(self) -> dict[str, Any]:
        # Headers (and so any key) never reach the log.
        return {k: v for k, v in self.request.items() if k not in ("extra_headers", "timeout")}


class _BaseClient:
    """Configuration and helpers shared by the sync and async clients."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        log: LogTarget = None,
        default_params: Mapping[str, Any] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.endpoint = Endpoint.resolve(base_url, api_key, model)
        self.max_response_bytes = check_limit(max_response_bytes)
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.default_params = dict(default_params or {})
        self.call_log: CallLog | None = open_log(log)
        self._owns_log = self.call_log is not None and not isinstance(log, CallLog)
        # Some servers reject stream_options; remember and stop sending it.
        self._stream_options_ok = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.endpoint.safe_url!r}, model={self.endpoint.model!r})"

    def _request(
        self, messages: Messages, model: str | None, stream: bool, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        request: dict[str, Any] = _split_extra(
            {
                "model": self.endpoint.require_model(model),
                "messages": _as_messages(messages),
                **self.default_params,
                **params,
            }
        )
        if stream:
            request["stream"] = True
            if self._stream_options_ok and "stream_options" not in request:
                request["stream_options"] = {"include_usage": True}
        return request

    def _plan(
        self,
        messages: Messages,
        model: str | None,
        stream: bool,
        template: Any,
        params: Mapping[str, Any],
    ) -> _CallPlan:
        request = self._request(messages, model, stream, params)
        return _CallPlan(self, request, stream, _template_id(template))

    def _stream_options_rejected(self, plan: _CallPlan, failed: AttemptFailed) -> bool:
        """A 400 that blames ``stream_options``: drop it and try again without counting."""
        if (
            failed.status in (400, 422)
            and "stream_options" in plan.request
            and "stream_options" in failed.message
        ):
            self._stream_options_ok = False
            plan.request.pop("stream_options")
            plan.attempts.pop()
            return True
        return False

    def _log_call(
        self, plan: _CallPlan, result: CallResult | None, error: LLMCallError | None
    ) -> None:
        if self.call_log is None:
            return
        try:
            self.call_log.append_call(
                base_url=self.endpoint.safe_url,
                started_at=plan.started_wall,
                request=plan.loggable_request(),
                result=result,
                attempts=plan.attempts,
                error=error,
                template=plan.template,
                variant=plan.variant,
            )
        except Exception as exc:  # the log never fails a call (CallLog reports its own)
            _logger.warning("llmkit: a call could not be logged: %s", exc)

    def _sdk_kwargs(self) -> dict[str, Any]:
        install_log_filter()  # the HTTP libraries log request URLs (?key= included)
        return {
            "base_url": self.endpoint.request_url,
            "api_key": self.endpoint.api_key,
            "default_headers": self.endpoint.auth_headers(),  # overrides the Bearer key
            "max_retries": 0,  # tenacity owns retrying
        }


class ChatStream:
    """Iterate the text deltas of a streamed answer; ``result`` is set once it ends.

    Closing it (or leaving a ``with`` block) early closes the HTTP connection.
    """

    def __init__(self, gen: Generator[str, None, None]) -> None:
        self._gen = gen
        self.result: CallResult | None = None

    def __iter__(self) -> Iterator[str]:
        return self._gen

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading the stream and close its connection."""
        self._gen.close()


class Client(_BaseClient):
    """Synchronous client for any OpenAI-compatible endpoint.

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1``; else ``LLMKIT_BASE_URL``/``OPENAI_BASE_URL``.
        api_key: else ``LLMKIT_API_KEY``/``OPENAI_API_KEY``; never logged or printed.
        model: default model; else ``LLMKIT_MODEL``/``OPENAI_MODEL``.
        timeouts: connect, read, stall (between chunks) and total-call limits.
        retry: attempts and back-off.
        log: ``True`` for the default call log, a path, or a :class:`CallLog`.
        default_params: sent with every request (``temperature``, ``max_tokens``, ...).
        max_response_bytes: the most a response body may hold, decompressed (default
            32 MiB); a larger one fails with ``BadResponseError``, never a ``MemoryError``.
        wrap_transport: wraps the client's ``httpx2`` transport (``llmkit eval`` records
            cassettes through it); nothing else in the process is touched.
        transport: an ``httpx2`` transport used instead of the network (``llmkit eval``
            replays cassettes through it).
    """

    def __init__(
        self,
        *args: Any,
        wrap_transport: Callable[[httpx2.BaseTransport], httpx2.BaseTransport] | None = None,
        transport: httpx2.BaseTransport | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if transport is None:
            # Our transport caps every socket wait at what the call has left (see _deadline)
            # and every body at max_response_bytes.
            transport = CappedTransport(budget_transport(), self.max_response_bytes)
            if wrap_transport is not None:
                transport = wrap_transport(transport)
        http = openai.DefaultHttpxClient(transport=transport)
        self._sdk = openai.OpenAI(**self._sdk_kwargs(), http_client=http)

    def close(self) -> None:
        """Close the HTTP connections, and write any call-log row still held back."""
        self._sdk.close()
        if self._owns_log and self.call_log is not None:
            self.call_log.close()  # writes any row the lock kept back

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chat(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        stream: bool = True,
        template: Any = None,
        **params: Any,
    ) -> CallResult:
        """One chat completion; streamed by default so TTFT and ITL are measured.

        Args:
            messages: a prompt string or chat messages.
            model: overrides the client's model.
            stream: stream the answer (measures TTFT and ITL) or ask for one body.
            template: the :class:`~llmkit.prompts.PromptTemplate` the messages were rendered
                from (or a ``(name, version)`` pair); the log records its name and version.
            **params: chat parameters (``max_tokens``, ``temperature``, ...).
        """
        plan = self._plan(messages, model, stream, template, params)
        for _ in self._iter_call(plan):
            pass
        return plan.result()

    def stream(
        self, messages: Messages, *, model: str | None = None, template: Any = None, **params: Any
    ) -> ChatStream:
        """Stream the answer as text deltas. A break after text was yielded is not retried."""
        plan = self._plan(messages, model, True, template, params)
        holder: ChatStream

        def gen() -> Generator[str, None, None]:
            for delta in self._iter_call(plan):
                plan.yielded = True
                yield delta
            holder.result = plan.result()

        holder = ChatStream(gen())
        return holder

    def _iter_call(self, plan: _CallPlan) -> Iterator[str]:
        try:
            for attempt in tenacity.Retrying(**plan.retrying_kwargs()):
                with attempt:
                    try:
                        yield from self._attempt(plan)
                    except AttemptFailed as failed:
                        if not self._stream_options_rejected(plan, failed):
                            raise
                        yield from self._attempt(plan)
        except AttemptFailed as failed:
            raise plan.error(failed) from None

    def _attempt(self, plan: _CallPlan) -> Iterator[str]:
        state, request = plan.begin_attempt()
        budget = state.budget
        assert budget is not None
        try:
            # Each blocking step runs under the budget (never the caller's code between them).
            with spending(budget):
                response = self._sdk.chat.completions.create(**request)
            if not plan.stream:
                state.on_completion(response)
            elif is_json(state.on_headers(response.response.headers.get("content-type"))):
                with contextlib.closing(response), spending(budget):
                    body = response.response.read()
                text = state.on_json_answer(body)
                if text:
                    yield text
            else:
                with contextlib.closing(response):
                    chunks = iter(response)
                    while True:
                        with spending(budget):
                            try:
                                chunk = next(chunks, None)
                            except Exception as exc:
                                if not _finished(state, exc):
                                    raise
                                chunk = None
                        if chunk is None:
                            break
                        text = state.on_chunk(chunk)
                        if text:
                            yield text
                    rest = state.end_of_stream(_saw_done(response))
                    if rest:
                        yield rest
        except (GeneratorExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise plan.fail_attempt(_unwrap(exc)) from exc
        plan.succeed_attempt()

    def structured(self, messages: Messages, schema: Any = None, **kwargs: Any) -> StructuredResult:
        """A value valid against ``schema``: parse, repair, coerce, validate; re-prompt last.

        See :func:`llmkit.llm._structured.structured_call` for the options.
        """
        from llmkit.llm._structured import structured_call

        return structured_call(self, messages, schema, **kwargs)


class AsyncChatStream:
    """Async twin of :class:`ChatStream`."""

    def __init__(self, gen: AsyncGenerator[str, None]) -> None:
        self._gen = gen
        self.result: CallResult | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._gen

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading the stream and close its connection."""
        await self._gen.aclose()


class AsyncClient(_BaseClient):
    """Asynchronous client; same arguments and results as :class:`Client`.

    Cancelling the task that awaits a call closes its connection.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        http = openai.DefaultAsyncHttpxClient(
            transport=async_capped_transport(self.max_response_bytes)
        )
        self._sdk = openai.AsyncOpenAI(**self._sdk_kwargs(), http_client=http)

    async def close(self) -> None:
        """Close the HTTP connections and the call log this client opened."""
        await self._sdk.close()
        if self._owns_log and self.call_log is not None:
            self.call_log.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def chat(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        stream: bool = True,
        template: Any = None,
        **params: Any,
    ) -> CallResult:
        """Async twin of :meth:`Client.chat`."""
        plan = self._plan(messages, model, stream, template, params)
        async for _ in self._iter_call(plan):
            pass
        result = plan.result(log=False)
        await self._alog(plan, result, None)
        return result

    def stream(
        self, messages: Messages, *, model: str | None = None, template: Any = None, **params: Any
    ) -> AsyncChatStream:
        """Async twin of :meth:`Client.stream`."""
        plan = self._plan(messages, model, True, template, params)
        holder: AsyncChatStream

        async def gen() -> AsyncGenerator[str, None]:
            async for delta in self._iter_call(plan):
                plan.yielded = True
                yield delta
            holder.result = plan.result(log=False)
            await self._alog(plan, holder.result, None)

        holder = AsyncChatStream(gen())
        return holder

    async def _iter_call(self, plan: _CallPlan) -> AsyncIterator[str]:
        try:
            async for attempt in tenacity.AsyncRetrying(**plan.retrying_kwargs()):
                with attempt:
                    # aclosing: an abandoned attempt closes its connection now, not at GC
                    try:
                        async with contextlib.aclosing(self._attempt(plan)) as texts:
                            async for text in texts:
                                yield text
                    except AttemptFailed as failed:
                        if not self._stream_options_rejected(plan, failed):
                            raise
                        async with contextlib.aclosing(self._attempt(plan)) as texts:
                            async for text in texts:
                                yield text
        except AttemptFailed as failed:
            error = plan.error(failed, log=False)
            await self._alog(plan, None, error)
            raise error from None

    async def _alog(
        self, plan: _CallPlan, result: CallResult | None, error: LLMCallError | None
    ) -> None:
        """Log off the event loop: a log another writer holds must not stall other tasks."""
        if self.call_log is not None:
            await anyio.to_thread.run_sync(self._log_call, plan, result, error)

    async def _attempt(self, plan: _CallPlan) -> AsyncGenerator[str, None]:
        state, request = plan.begin_attempt()
        budget = state.budget
        assert budget is not None
        try:
            # Every wait is bounded by what is left (a cancel scope per wait, never held
            # across a yield), so comments or one byte at a time cannot stretch it.
            try:
                with anyio.fail_after(max(budget.left(), 0.0)):
                    response = await self._sdk.chat.completions.create(**request)
            except TimeoutError:
                raise plan.timed_out(budget) from None
            if not plan.stream:
                state.on_completion(response)
            elif is_json(state.on_headers(response.response.headers.get("content-type"))):
                try:
                    with anyio.fail_after(max(budget.left(), 0.0)):
                        body = await response.response.aread()
                except TimeoutError:
                    raise plan.timed_out(budget) from None
                finally:
                    with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                        await response.close()
                text = state.on_json_answer(body)
                if text:
                    yield text
            else:
                try:
                    chunks = aiter(response)
                    while True:
                        try:
                            with anyio.fail_after(max(budget.left(), 0.0)):
                                chunk = await anext(chunks, None)
                        except TimeoutError as exc:
                            if not _finished(state, exc):
                                raise plan.timed_out(budget) from None
                            chunk = None
                        if chunk is None:
                            break
                        text = state.on_chunk(chunk)
                        if text:
                            yield text
                    rest = state.end_of_stream(_saw_done(response))
                    if rest:
                        yield rest
                finally:
                    with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                        await response.close()
        except (GeneratorExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise plan.fail_attempt(_unwrap(exc)) from exc
        if state.counting_is_heavy():  # count off the event loop; the result reuses it
            await anyio.to_thread.run_sync(functools.partial(state.timing, streamed=plan.stream))
        plan.succeed_attempt()

    async def structured(
        self, messages: Messages, schema: Any = None, **kwargs: Any
    ) -> StructuredResult:
        """Async twin of :meth:`Client.structured`."""
        from llmkit.llm._structured import astructured_call

        return await astructured_call(self, messages, schema, **kwargs)


def _finished(state: AttemptState, exc: Exception) -> bool:
    """A wait for more ran out after the answer's ``finish_reason``: the answer is whole,
    the server only never hung up (nor sent ``[DONE]``); it is kept, not retried."""
    return state.finish_reason is not None and is_timeout(exc)


def _saw_done(stream: Any) -> bool:
    """Whether the SDK stream's body carried ``data: [DONE]`` (see ``_bodycap``)."""
    return bool(stream.response.extensions.get(SSE_DONE))


def _unwrap(exc: Exception) -> BaseException:
    """HTTP-stack errors the SDK let through unwrapped, mapped by type (see ``_errors``)."""
    if isinstance(exc, AttemptFailed | openai.OpenAIError):
        return exc
    return transport_error(exc) or exc
