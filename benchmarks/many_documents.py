"""Many small invalid YAML documents against one large valid one, side by side.

Run: ``python benchmarks/many_documents.py [--documents 40000]``

An answer of ``--documents`` invalid ``---`` documents (about 1 MB in all, in four shapes:
an unclosed flow, ``a: b: c``, a bad indent, a tab) is parsed against
``{"type": "object"}``, beside a single valid 1 MB document. Parsing should be linear with a
small constant: the goal (issue #15 §4) is under 1 s for 1 MB, as for the single document.
"""

from __future__ import annotations

import argparse
import time

from llmkit.structured import parse

SHAPES = {
    "unclosed flow": "---\nk{i}: [unclosed\n",
    "a: b: c": "---\na: b: c{i}\n",
    "bad indent": "---\n- a{i}\nb: c\n",
    "tab indent": "---\n\tk{i}: v\n",
}


def timed(text: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = parse(text, {"type": "object"})
    return time.perf_counter() - start, result.stage


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=40_000)
    args = parser.parse_args()
    took, stage = timed("k: " + "x" * 1_000_000 + "\n")
    print(f"{'one valid 1 MB document':<28} {1000:>6} KB {took:7.2f} s  {stage}")
    for name, pattern in SHAPES.items():
        text = "".join(pattern.format(i=i) for i in range(args.documents))
        took, stage = timed(text)
        kb = len(text) // 1000
        print(f"{args.documents} x {name:<19} {kb:>6} KB {took:7.2f} s  {stage}"
              f"  ({took * 1000 / kb:.2f} ms/KB)")  # fmt: skip


if __name__ == "__main__":
    main()
