"""The cassette transports and the httpx2 API they stand on: a change there fails here, loudly.

The adapter (``llmkit/evals/_transport.py``) uses only httpx2's public transport API. The
range below is the one these tests passed on; widen it (and the pin in pyproject.toml)
only after they pass on the new version.
"""

from __future__ import annotations

import itertools
import threading
import tomllib
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from llmkit.engine import EngineHandle
from llmkit.evals import CassetteError, cassette_client, load_suite, run_suite
from llmkit.evals._cassettes import Recorder, load_cassette
from llmkit.evals._transport import RecordingTransport, capture, recorded_timing

TESTED_HTTPX2 = ((2, 16), (2, 18))  # >= 2.16, < 2.18: the pin in pyproject.toml


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def test_the_httpx2_pin_is_the_tested_range() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    (pin,) = [d for d in project["project"]["dependencies"] if d.startswith("httpx2")]
    (low, high) = TESTED_HTTPX2
    assert pin.split("#")[0].replace(" ", "") == (
        f"httpx2>={low[0]}.{low[1]},<{high[0]}.{high[1]}"
    ), "widen the pin only with TESTED_HTTPX2, after these tests pass on the new version"


def test_httpx2_is_within_the_tested_range_and_its_transport_api_is_unchanged() -> None:
    low, high = TESTED_HTTPX2
    found = _version(httpx2.__version__)
    assert low <= found < high, (
        f"httpx2 {httpx2.__version__} is outside the range llmkit's cassette transports were "
        f"tested on ({low} to below {high}): run tests/evals and widen TESTED_HTTPX2 and the pin"
    )
    # what RecordingTransport and ReplayTransport rely on, by name and shape
    assert issubclass(httpx2.HTTPTransport, httpx2.BaseTransport)
    assert callable(httpx2.BaseTransport.handle_request)
    assert issubclass(httpx2.SyncByteStream, object) and hasattr(httpx2.SyncByteStream, "close")
    response = httpx2.Response(
        200,
        headers=[("content-type", "text/plain")],
        stream=httpx2.ByteStream(b"ok"),
        extensions={},
        request=httpx2.Request("GET", "http://x/"),
    )
    assert response.read() == b"ok"


def test_recording_streams_through_the_wrapped_transport_and_patches_nothing(
    make_engine: Any,
) -> None:
    engine = make_engine(decode_step_ms=2.0)
    original = httpx2.HTTPTransport.handle_request
    transport = RecordingTransport(httpx2.HTTPTransport())
    rec = Recorder("c")
    body = {"model": "llmkit-sim", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx2.Client(transport=transport) as http, capture(rec):
        with http.stream("POST", f"{engine.base_url}/chat/completions", json=body) as resp:
            chunks = list(resp.iter_raw())
    assert len(chunks) > 1  # the client saw the stream as it came, not one buffered body
    (interaction,) = rec.interactions
    assert interaction["response"]["status"]["code"] == 200
    assert "data:" in interaction["response"]["body"]["string"]
    assert rec.timings[0]["ttft_ms"] is not None and rec.timings[0]["output_tokens"] > 0
    assert httpx2.HTTPTransport.handle_request is original


def _sse(events: list[str], sep: str) -> bytes:
    return "".join(f"data: {e}{sep}{sep}" for e in events).encode()


def test_recorded_timing_reads_crlf_streams_like_lf_ones() -> None:
    deltas = [
        '{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
        '{"choices":[{"index":0,"delta":{"content":"Hel"}}]}',
        '{"choices":[{"index":0,"delta":{"content":"lo"}}]}',
        '{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}',
        "[DONE]",
    ]
    out = {}
    for sep in ("\n", "\r\n"):
        body = _sse(deltas, sep)
        # cut the stream anywhere, even between CR and LF: five reads 1 ms apart
        cuts = [0, 7, len(body) // 2, len(body) // 2 + 1, len(body) - 3, len(body)]
        chunks = [
            (1_000_000 * (i + 1), body[a:b]) for i, (a, b) in enumerate(itertools.pairwise(cuts))
        ]
        out[sep] = recorded_timing(0, 500_000, chunks)
    assert out["\r\n"] == out["\n"]
    assert out["\n"]["ttft_ms"] is not None and out["\n"]["output_tokens"] == 2
    assert out["\n"]["prompt_tokens"] == 5


def test_two_recordings_in_two_threads_each_keep_their_own_calls(
    suite_copy: Path, engine: EngineHandle
) -> None:
    # A starts, B starts, A ends, then B calls: a process-wide patch undone by A's exit
    # would lose B's call (and leave httpx2 patched once B restored A's patch)
    suite = load_suite(suite_copy)
    original = httpx2.HTTPTransport.handle_request
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def chat(name: str, text: str, enter: Any, leave: Any) -> None:
        try:
            with cassette_client(
                suite, f"t/{name}", "record", base_url=engine.base_url, api_key="k"
            ) as client:
                enter()
                client.chat([{"role": "user", "content": text}], max_tokens=5)
                leave()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            (a_out if name == "a" else b_in).set()

    def a_enter() -> None:
        a_in.set()

    def a_leave() -> None:
        assert b_in.wait(30)

    def b_enter() -> None:
        b_in.set()
        assert a_out.wait(30)  # B calls only once A has left its recording

    ta = threading.Thread(target=chat, args=("a", "from A", a_enter, a_leave))
    tb = threading.Thread(target=chat, args=("b", "from B", b_enter, lambda: None))
    ta.start()
    assert a_in.wait(30)
    tb.start()
    ta.join(60)
    tb.join(60)
    assert not errors, errors
    for name, text in (("a", "from A"), ("b", "from B")):
        data = load_cassette(suite.cassette_dir / "t" / f"{name}.yaml")
        bodies = [i["request"]["body"] for i in data["interactions"]]
        assert len(bodies) == 1 and text in bodies[0], (name, bodies)
    assert httpx2.HTTPTransport.handle_request is original
    # and both replay, at once, from two threads
    replayed: list[str] = []

    def replay(name: str, text: str) -> None:
        with cassette_client(suite, f"t/{name}") as client:
            replayed.append(client.chat([{"role": "user", "content": text}], max_tokens=5).text)

    threads = [
        threading.Thread(target=replay, args=(n, t)) for n, t in (("a", "from A"), ("b", "from B"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(replayed) == 2


def test_a_recorded_500_is_named_not_called_unmatched(suite_copy: Path) -> None:
    path = suite_copy.parent.parent / "cassettes" / "support_ticket" / "wrong-size.yaml"
    data = load_cassette(path)
    data["interactions"][0]["response"]["status"] = {"code": 500, "message": "Server Error"}
    data["interactions"][0]["response"]["body"]["string"] = '{"error": "model crashed"}'
    data["interactions"][0]["response"]["headers"]["content-type"] = ["application/json"]
    path.write_text(yaml.safe_dump(data))
    run = run_suite(load_suite(suite_copy), "replay", cases=["wrong-size"])
    (error,) = run.errors
    assert "HTTP 500" in error and "model crashed" in error
    assert "matches this request" not in error


def test_removing_a_judge_needs_no_new_recording(suite_copy: Path) -> None:
    # a scorer's (a judge's) call recorded in the case's cassette and no longer made
    path = suite_copy.parent.parent / "cassettes" / "support_ticket" / "charged-twice.yaml"
    data = load_cassette(path)
    judge = yaml.safe_load(yaml.safe_dump(data["interactions"][0]))
    judge["request"]["body"] = '{"model": "judge", "messages": []}'
    data["interactions"].append(judge)
    data["metadata"]["llmkit"]["timings"].append({"phase": "scorer", "e2e_ms": 1.0})
    path.write_text(yaml.safe_dump(data))
    run = run_suite(load_suite(suite_copy), "replay", cases=["charged-twice"])
    assert run.errors == [] and run.pass_rate == 1.0
    # a case call no longer made is still an error
    data["metadata"]["llmkit"]["timings"][-1]["phase"] = "case"
    path.write_text(yaml.safe_dump(data))
    run = run_suite(load_suite(suite_copy), "replay", cases=["charged-twice"])
    assert len(run.errors) == 1 and "unplayed" in run.errors[0]


def test_replay_without_a_cassette_is_a_cassette_error(suite_copy: Path) -> None:
    with pytest.raises(CassetteError, match="does not exist"):
        with cassette_client(load_suite(suite_copy), "nothing/here"):
            pass


def test_committed_cassettes_still_play_in_vcrpy(suite_copy: Path) -> None:
    # the format is vcrpy's: pytest-recording users can replay these files themselves
    vcr = pytest.importorskip("vcr")
    from llmkit.evals._cassettes import body_matcher, endpoint_matcher
    from llmkit.llm import Client

    path = suite_copy.parent.parent / "cassettes" / "support_ticket" / "wrong-size.yaml"
    suite = load_suite(suite_copy)
    case = suite.case("wrong-size")
    recorder = vcr.VCR(record_mode="none", match_on=["method", "endpoint", "body"])
    recorder.register_matcher("endpoint", endpoint_matcher)
    recorder.register_matcher("body", body_matcher)
    with recorder.use_cassette(str(path)), Client("http://127.0.0.1:9/v1", "k") as client:
        result = client.structured(
            suite.prompt.render(**case.vars),
            suite.prompt.schema,
            format=suite.prompt.format,
            instructions=False,
            hints=list(suite.prompt.hints) or True,
            model=suite.model_name,
            **suite.params,
        )
    assert result.ok
