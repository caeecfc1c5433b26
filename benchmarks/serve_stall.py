"""Does one long whitespace-free prompt stall every other request of ``llmkit serve``?

Run: ``python benchmarks/serve_stall.py [--kb 20,40]``

For each size, one request carries a prompt of that many KB of one letter (a new letter
each time, so no cache helps); 50 ms later a one-word request is sent beside it. It prints
how long each took: the small one should not wait for the big one. Quadratic counting on
the event loop made the small one wait 12-15 s at 20 KB and 84 s at 40 KB.
"""

from __future__ import annotations

import argparse
import threading
import time

import httpx2

from llmkit.engine import EngineConfig, start_engine


def post(url: str, content: str, took: dict[str, float], name: str) -> None:
    start = time.perf_counter()
    body = {"model": "llmkit-sim", "messages": [{"role": "user", "content": content}],
            "max_tokens": 4}  # fmt: skip
    httpx2.post(url + "/chat/completions", json=body, timeout=600).raise_for_status()
    took[name] = time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", default="20,40")
    args = parser.parse_args()
    handle = start_engine(EngineConfig())
    try:
        post(handle.base_url, "warm up", {}, "warm")
        for letter, kb in zip("EFGHIJ", (int(k) for k in args.kb.split(",")), strict=False):
            took: dict[str, float] = {}
            big = threading.Thread(
                target=post, args=(handle.base_url, letter * kb * 1000, took, "big")
            )
            big.start()
            time.sleep(0.05)
            post(handle.base_url, "hi", took, "small")
            big.join()
            print(f"{kb:>4} KB prompt: {took['big']:7.2f} s; the one-word request beside it "
                  f"{took['small']:7.3f} s")  # fmt: skip
    finally:
        handle.stop()


if __name__ == "__main__":
    main()
