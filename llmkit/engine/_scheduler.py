"""One shared scheduler doing continuous batching, like vLLM or llama.cpp's server.

Every step decodes one token for each running sequence. A step lasts
``decode_step_ms + decode_ms_per_seq·batch + decode_ms_per_kv_token·context tokens +
prefill_ms_per_token·prompt tokens admitted this step``; sequences beyond ``max_batch``
wait in a FIFO queue, so TTFT takes the queue once the batch is full. Steps end at
absolute target times on the monotonic clock (no drift from late wake-ups). When steps
take no time, many are run back to back and their chunks reach each handler as one
string, so the engine is never the bottleneck of a benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass

from llmkit.engine._config import EngineConfig
from llmkit.engine._protocol import DONE, Framer
from llmkit.engine._tokencache import TokenizedText

__all__ = ["Scheduler", "Segment", "Sequence"]

# Run at most this many token events back to back before letting handlers write.
_BURST_EVENTS = 4096
# Sleeps shorter than this are skipped: the loop cannot time them anyway.
_MIN_SLEEP_NS = 50_000
# Behind schedule by more than this (a blocked loop): restart the clock instead of bursting.
_RESYNC_NS = 20_000_000


@dataclass(frozen=True)
class Segment:
    """A run of answer text of one kind.

    Attributes:
        text: the tokenized text.
        field: ``content`` or ``reasoning_content`` (the delta field it streams in).
        kind: ``output`` or ``reasoning`` (for the send log and usage).
    """

    text: TokenizedText
    field: str
    kind: str


class Sequence:
    """One request's generation state, advanced one token per scheduler step.

    Args:
        segments: the answer, in order (reasoning first, if any).
        limit: tokens to generate in all.
        cycle: after the last segment, start it again (``ignore_eos``).
        framer: builds SSE events; ``None`` for a non-streaming request (raw text kept).
        tokens_per_chunk: tokens buffered into one event.
        finish_reason: the reason the last chunk carries.
        include_usage: end with a usage-only chunk.
        log_meta: keep ``(tokens, kind, target_ns)`` for every event (for the send log).
        prompt_tokens: prefill size and starting context length.
    """

    __slots__ = (
        "_pend",
        "_pend_field",
        "_pend_kind",
        "_pend_tok",
        "_seg",
        "_segi",
        "_target",
        "_ui",
        "buf",
        "cancelled",
        "cycle",
        "done",
        "emitted",
        "finish_reason",
        "framer",
        "gen",
        "include_usage",
        "k",
        "limit",
        "meta",
        "prompt_tokens",
        "raw",
        "reasoning_tokens",
        "segments",
        "waiter",
    )

    def __init__(
        self,
        segments: Seq[Segment],
        limit: int,
        *,
        cycle: bool,
        framer: Framer | None,
        tokens_per_chunk: int,
        finish_reason: str,
        include_usage: bool,
        log_meta: bool,
        prompt_tokens: int,
    ) -> None:
        self.segments = [s for s in segments if s.text.total > 0]
        self.limit = limit
        self.cycle = cycle
        self.framer = framer
        self.k = tokens_per_chunk
        self.finish_reason = finish_reason
        self.include_usage = include_usage
        self.prompt_tokens = prompt_tokens
        self.meta: list[tuple[int, str, int]] | None = [] if log_meta else None
        self.buf: list[str] = []
        self.raw: dict[str, list[str]] = {"content": [], "reasoning_content": []}
        self.gen = 0
        self.emitted = 0
        self.reasoning_tokens = 0
        self.done = False
        self.cancelled = False
        self.waiter: asyncio.Future[None] | None = None
        self._segi = 0
        self._seg: Segment | None = self.segments[0] if self.segments else None
        self._ui = 0
        self._pend: list[str] = []
        self._pend_tok = 0
        self._pend_field = "content"
        self._pend_kind = "output"
        self._target = 0
        if self._seg is None:
            self.limit = 0

    # -- called by the handler ------------------------------------------------------
    async def wait(self) -> None:
        """Until the scheduler has new chunks for this sequence (or it finished).

        Raises:
            ConnectionResetError: the sequence was cancelled (engine stopping).
        """
        if self.buf or self.done:
            return
        if not self._dropped():
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        if self._dropped():
            raise ConnectionResetError("the engine dropped this sequence")

    def _dropped(self) -> bool:
        return self.cancelled and not self.buf and not self.done

    def take(self) -> tuple[list[str], list[tuple[int, str, int]] | None]:
        """Everything buffered so far, with its send-log metadata."""
        buf, self.buf = self.buf, []
        meta = self.meta
        if meta is not None:
            self.meta = []
        return buf, meta

    def cancel(self) -> None:
        """The client went away: the scheduler drops it at the next step."""
        self.cancelled = True

    # -- called by the scheduler ----------------------------------------------------
    def notify(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _flush(self, finish: str | None) -> None:
        text = "".join(self._pend) if len(self._pend) != 1 else self._pend[0]
        tokens = self._pend_tok
        self._pend = []
        self._pend_tok = 0
        if self._pend_kind == "reasoning":
            self.reasoning_tokens += tokens
        if self.framer is None:
            self.raw[self._pend_field].append(text)
            return
        self.buf.append(self.framer.text(self._pend_field, text, self.emitted, finish))
        if self.meta is not None:
            self.meta.append((tokens, self._pend_kind, self._target))

    def _finish(self) -> None:
        if self._pend or self.framer is None:
            self._flush(self.finish_reason)
        elif self.framer is not None:  # nothing pending: a last empty chunk carries the reason
            self._pend_kind = "output"
            self._pend_field = "content"
            self._flush(self.finish_reason)
        if self.framer is not None:
            if self.include_usage:
                self.buf.append(self.framer.usage(self.emitted, self.reasoning_tokens))
                if self.meta is not None:
                    self.meta.append((0, "usage", self._target))
            self.buf.append(DONE)
            if self.meta is not None:
                self.meta.append((0, "done", self._target))
        self.done = True

    def step(self, target_ns: int = 0) -> None:
        """Generate one token; emit every chunk that became complete.

        Args:
            target_ns: when this step was due (0 when untimed), logged with its chunks.
        """
        self._target = target_ns
        self.gen += 1
        avail = self.gen - self.emitted
        seg = self._seg
        while avail > 0 and seg is not None:
            n = seg.text.tokens[self._ui]
            if n > avail:
                if self.gen < self.limit:
                    break
                n, text = avail, ""  # the limit falls inside a multi-token character
            else:
                text = (
                    seg.text.escaped[self._ui]
                    if self.framer is not None
                    else seg.text.raw[self._ui]
                )
            if self._pend and seg.kind != self._pend_kind:
                self._flush(None)
            self._pend_kind = seg.kind
            self._pend_field = seg.field
            self._pend.append(text)
            self._pend_tok += n
            self.emitted += n
            avail -= n
            self._ui += 1
            if self._ui == len(seg.text.tokens):
                self._ui = 0
                if self._segi + 1 < len(self.segments):
                    self._segi += 1
                    seg = self._seg = self.segments[self._segi]
                elif not self.cycle:
                    seg = self._seg = None
            if self._pend_tok >= self.k and self.emitted < self.limit:
                self._flush(None)
        if self.emitted >= self.limit or self._seg is None:
            self._finish()


class Scheduler:
    """The one batching loop shared by every request of an engine.

    Args:
        config: timing model and ``max_batch``.
        on_idle: called when the last running sequence finished (e.g. flush a log).
    """

    def __init__(self, config: EngineConfig, on_idle: Callable[[], None] | None = None) -> None:
        self.config = config
        self.on_idle = on_idle
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._ctx_tokens = 0
        self.steps = 0
        self.resyncs = 0  # times the clock restarted because the loop was blocked

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="llmkit-engine-scheduler"
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for seq in [*self.running, *self.waiting]:
            seq.cancel()
            seq.notify()

    def submit(self, seq: Sequence) -> None:
        """Queue a sequence; it joins the batch at the next step with room."""
        if seq.limit <= 0:
            seq.step()  # nothing to generate: finish at once
            return
        self.waiting.append(seq)
        if self._wake is not None:
            self._wake.set()

    @property
    def queued(self) -> int:
        return len(self.waiting)

    def _step_ns(self, batch: int, prefill_tokens: int) -> int:
        c = self.config
        ms = (
            c.decode_step_ms
            + c.decode_ms_per_seq * batch
            + c.decode_ms_per_kv_token * self._ctx_tokens
            + c.prefill_ms_per_token * prefill_tokens
        )
        return int(ms * 1_000_000)

    async def _run(self) -> None:
        assert self._wake is not None
        clock = time.perf_counter_ns
        running = self.running
        waiting = self.waiting
        max_batch = self.config.max_batch
        target = 0
        burst = 0
        while True:
            if not running and not waiting:
                if self.on_idle is not None:
                    self.on_idle()
                self._wake.clear()
                await self._wake.wait()
                target = clock()
                burst = 0
            # admit from the queue: their prefill lengthens this step
            prefill = 0
            while waiting and len(running) < max_batch:
                seq = waiting.popleft()
                if seq.cancelled:
                    continue
                running.append(seq)
                prefill += seq.prompt_tokens
                self._ctx_tokens += seq.prompt_tokens
            if not running:
                continue
            dur = self._step_ns(len(running), prefill)
            step_target = 0
            if dur:
                target += dur
                now = clock()
                if now - target > _RESYNC_NS:
                    target = now
                    self.resyncs += 1
                elif target - now > _MIN_SLEEP_NS:
                    await asyncio.sleep((target - now) / 1e9)
                    burst = 0
                # Never early: the loop cannot time a sleep this short, so yield until due.
                while clock() < target:
                    await asyncio.sleep(0)
                step_target = target
            # the step: one token for every running sequence
            finished = False
            for seq in running:
                if seq.cancelled:
                    finished = True
                    continue
                seq.step(step_target)
                if seq.done:
                    finished = True
            n = len(running)
            self._ctx_tokens += n
            self.steps += 1
            burst += n
            if finished:
                keep = []
                for seq in running:
                    if seq.done or seq.cancelled:
                        self._ctx_tokens -= seq.prompt_tokens + seq.gen
                        seq.notify()
                    else:
                        keep.append(seq)
                running[:] = keep
            if dur or burst >= _BURST_EVENTS or not running:
                for seq in running:
                    if seq.buf:
                        seq.notify()
            if burst >= _BURST_EVENTS:
                burst = 0
                await asyncio.sleep(0)
