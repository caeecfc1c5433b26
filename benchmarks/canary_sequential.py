"""False roll-backs over a whole rollout, checked at every step, with no true difference.

Side by side: the judge's alpha spending (check k uses alpha * 6 / (pi^2 k^2)) against
naive repeated testing at the full alpha every check. Each rollout draws ITL and errors
for both variants from the same distributions and is judged after every step (tolerance 0,
so any significant difference counts).

    python benchmarks/canary_sequential.py [--rollouts 1000] [--checks 6]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.watch.test_canary import _null_rollout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rollouts", type=int, default=1000)
    parser.add_argument("--checks", type=int, default=6)
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args()
    rates = {}
    for spend in (True, False):
        rng = np.random.default_rng(20)
        hits = sum(
            _null_rollout(rng, checks=args.checks, step=40, alpha=args.alpha, spend=spend)
            for _ in range(args.rollouts)
        )
        rates[spend] = hits / args.rollouts
    print(f"{args.rollouts} null rollouts, {args.checks} checks each, alpha {args.alpha}")
    print(f"  alpha spending:            {rates[True]:.3f} false roll-backs")
    print(f"  naive (alpha every check): {rates[False]:.3f} false roll-backs")


if __name__ == "__main__":
    main()
