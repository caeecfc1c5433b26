"""Many small invalid YAML documents against one large valid one, side by side.

Run: ``python benchmarks/many_documents.py [--documents 40000]``

An answer of ``--documents`` invalid ``---`` documents (about 1 MB in all, in four shapes:
an unclosed flow, ``a: b: c``, a bad indent, a tab) is parsed against
``{"type": "object"}``, beside a single valid 1 MB document. Parsing should be linear with a
small constant: the goal (issue #15 §4) is under 1 s for 1 MB, as for the single document.
The last column is the time per KB against the single valid document's.

A stream of more than ``MAX_REPAIRED_DOCUMENTS`` documents that does not load as written
is failed after its strict load (before: every repair reloaded and re-walked the whole
stream, 2.8-10.4 s here; after: 0.06-0.19 s). ``--one-document``: the same errors in one
document of 40,000 bad lines: linear, 0.8-1.6 ms/KB (bad indent was quadratic: 15.3 s
for 64,000 lines, 1.2 MB, now 2.5 s; 0.4-1.2 s for the four shapes at 0.4-0.7 MB).
"""

from __future__ import annotations

import argparse
import time

from llmkit.structured import parse

# the same errors on every line of one document (no `---`): repaired line by line, so
# linear with a larger constant (the error-driven repairs try up to 25 error lines)
ONE_DOCUMENT = {
    "unclosed flow": "k{i}: [unclosed\n",
    "a: b: c": "k{i}: b: c\n",
    "bad indent": "- a{i}\nb{i}: c\n",
    "tab indent": "\tk{i}: v\n",
}

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
    parser.add_argument(
        "--one-document", action="store_true", help="also one document of as many bad lines"
    )
    args = parser.parse_args()
    one = "k: " + "x" * 1_000_000 + "\n"
    took, stage = timed(one)
    per_kb = took / (len(one) // 1000)
    print(f"{'one valid 1 MB document':<28} {1000:>6} KB {took:7.2f} s  {stage:<8}  1.00x")
    rows = [(f"{args.documents} x {name}", pattern) for name, pattern in SHAPES.items()]
    if args.one_document:
        rows += [(f"one document, {name}", pattern) for name, pattern in ONE_DOCUMENT.items()]
    for label, pattern in rows:
        text = "".join(pattern.format(i=i) for i in range(args.documents))
        took, stage = timed(text)
        kb = len(text) // 1000
        ratio = took / kb / per_kb
        print(f"{label:<28} {kb:>6} KB {took:7.2f} s  {stage:<8}"
              f"  {ratio:.2f}x  ({took * 1000 / kb:.2f} ms/KB)")  # fmt: skip


if __name__ == "__main__":
    main()
