"""The SSE parser: any split of the byte stream gives the same events."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from llmkit._sse import data_events, parse_reads
from llmkit.bench import SSEParser

STREAM = (
    b": keep-alive comment\n\n"
    b'data: {"a": 1}\n\n'
    b"event: update\ndata: line one\ndata: line two\n\n"
    b"id: 7\nretry: 100\nunknown: field\ndata:no-space\n\n"
    b"this line is not server-sent events at all\n\n"
    b"data\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    (b'{"a": 1}', "message"),
    (b"line one\nline two", "update"),
    (b"no-space", "message"),
    (b"", "message"),
    (b"[DONE]", "message"),
]


def _events(chunks: list[bytes]) -> list[tuple[bytes, str]]:
    events, partial = parse_reads(range(len(chunks)), chunks)
    assert not partial
    return [(e.data, e.event) for e in events]


def test_whole_stream() -> None:
    assert _events([STREAM]) == EXPECTED


def test_every_single_byte_split() -> None:
    assert _events([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30), st.booleans())
def test_arbitrary_splits(cuts: list[int], crlf: bool) -> None:
    data = STREAM.replace(b"\n", b"\r\n") if crlf else STREAM
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in itertools.pairwise(points)]
    assert _events(chunks) == EXPECTED


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    p = SSEParser()
    assert p.feed(b"data: x\r", 1) == []
    assert p.feed(b"\n\r", 2) == []
    (ev,) = p.feed(b"\n", 3)
    assert ev.data == b"x" and ev.t_ns == 3


def test_lone_cr_line_endings() -> None:
    assert _events([b"data: a\r\rdata: b\r\r"]) == [(b"a", "message"), (b"b", "message")]


def test_event_stamped_with_the_read_that_completed_it() -> None:
    events, _ = parse_reads([10, 20, 30], [b"data: one", b"\n\ndata: two\n", b"\n"])
    assert [(e.data, e.t_ns) for e in events] == [(b"one", 20), (b"two", 30)]


def test_unterminated_event_at_end_is_dropped_and_reported() -> None:
    events, partial = parse_reads([1], [b'data: {"a": 1}\n\ndata: {"b"'])
    assert [e.data for e in events] == [b'{"a": 1}']
    assert partial


# Streams the fast path must take, and ones it must hand to the full parser.
FAST = b': keep-alive\n\ndata: {"a": 1}\n\ndata:no-space\n\ndata: [DONE]\n\n'


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([FAST, STREAM, FAST + b"data: cut", FAST + b"data: x\n", FAST + b": c\n"]),
    st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30),
)
def test_fast_path_matches_the_full_parser(stream: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points)]
    times = [10 * (i + 1) for i in range(len(chunks))]
    events, partial = parse_reads(times, chunks)
    fast = data_events(times, chunks)
    if stream is STREAM:
        assert fast is None  # named events, multi-line data: not for the fast path
        return
    assert fast is not None
    assert fast == ([e.t_ns for e in events], [e.data for e in events], partial)


def test_fast_path_on_an_empty_body() -> None:
    assert data_events([], []) == ([], [], False)
    assert data_events([5], [b""]) == ([], [], False)
