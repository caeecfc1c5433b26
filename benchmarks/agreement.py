"""Agreement on 100,000 ratings: llmkit against the reference packages, side by side.

Run: ``python benchmarks/agreement.py [--ratings 100000] [--raters 4] [--repeat 3]``

Simulates items rated by ``--raters`` raters on a 1-5 scale with 15% of ratings missing,
then times, on the same data in one run (best of ``--repeat``):

- ``llmkit.annotate.agreement_summary`` (all statistics, no bootstrap), per level, and
  each statistic alone;
- the reference packages where they are installed (``pip install .[dev]``):
  ``krippendorff.alpha``, ``sklearn`` ``cohen_kappa_score`` (x3 weights),
  ``statsmodels`` ``fleiss_kappa`` (+ ``aggregate_raters``), ``irrCAC`` AC1;
- reading the same ratings as CSV, as ``llmkit annotate agreement`` does;
- one seeded bootstrap interval (``--resamples``, default 200) of Krippendorff's α, apart,
  as the issue asks ("under a second, bootstrap aside").

It prints each time, the ratio to the reference, and the largest difference from it.
"""

from __future__ import annotations

import argparse
import io
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from llmkit.annotate._agreement import (
    LEVELS,
    agreement_summary,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    read_ratings_csv,
)


def simulate(n_ratings: int, n_raters: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_items = math.ceil(n_ratings / (n_raters * 0.85))
    truth = rng.integers(1, 6, n_items)
    noise = rng.choice([-1, 0, 0, 0, 1], size=(n_items, n_raters))
    grid = np.clip(truth[:, None] + noise, 1, 5).astype(np.float64)
    grid[rng.random(grid.shape) < 0.15] = np.nan
    items, raters = np.nonzero(~np.isnan(grid))
    frame = pd.DataFrame(
        {"item": items, "rater": [f"r{r}" for r in raters], "value": grid[items, raters]}
    )
    return frame.iloc[:n_ratings].reset_index(drop=True), grid


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--raters", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=200)
    args = parser.parse_args()
    frame, grid = simulate(args.ratings, args.raters)
    used_items = np.unique(frame["item"].to_numpy())
    grid = grid[used_items]
    print(
        f"{len(frame)} ratings, {frame['item'].nunique()} items, {args.raters} raters "
        f"(best of {args.repeat})\n"
    )
    rows: list[tuple[str, float, float | None, float | None]] = []

    def ref_or_none(module: str) -> Any:
        try:
            return __import__(module, fromlist=["_"])
        except ImportError:
            return None

    kripp = ref_or_none("krippendorff")
    skm = ref_or_none("sklearn.metrics")
    ir = ref_or_none("statsmodels.stats.inter_rater")
    irr = ref_or_none("irrCAC.raw")

    for level in LEVELS:
        t, mine = best(lambda lv=level: krippendorff_alpha(frame, lv), args.repeat)
        ref_t = diff = None
        if kripp is not None:
            ref_t, ref = best(
                lambda lv=level: kripp.alpha(grid.T, level_of_measurement=lv), args.repeat
            )
            diff = abs(mine - ref)
        rows.append((f"krippendorff_alpha {level}", t, ref_t, diff))

    two = frame[frame["rater"].isin(["r0", "r1"])]
    wide = two.pivot(index="item", columns="rater", values="value").dropna()
    for weights in (None, "linear", "quadratic"):
        t, mine = best(
            lambda w=weights: cohen_kappa(wide["r0"], wide["r1"], weights=w), args.repeat
        )
        ref_t = diff = None
        if skm is not None:
            ref_t, ref = best(
                lambda w=weights: skm.cohen_kappa_score(
                    wide["r0"].astype(int), wide["r1"].astype(int), weights=w
                ),
                args.repeat,
            )
            diff = abs(mine - ref)
        rows.append((f"cohen_kappa {weights or 'unweighted'}", t, ref_t, diff))

    t, mine = best(lambda: fleiss_kappa(frame), args.repeat)
    ref_t = diff = None
    if ir is not None:
        counts = (~np.isnan(grid)).sum(axis=1)
        full = grid[counts == counts.max()]

        def sm() -> float:
            table, _ = ir.aggregate_raters(full)
            return float(ir.fleiss_kappa(table))

        ref_t, ref = best(sm, args.repeat)
        diff = abs(mine - ref)
    rows.append(("fleiss_kappa", t, ref_t, diff))

    t, mine = best(lambda: gwet_ac1(frame), args.repeat)
    ref_t = diff = None
    if irr is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_t, ref = best(
                lambda: irr.CAC(pd.DataFrame(grid), digits=15).gwet()["est"]["coefficient_value"],
                1,
            )
        diff = abs(mine - ref)
    rows.append(("gwet_ac1", t, ref_t, diff))

    for level in LEVELS:
        t, _ = best(lambda lv=level: agreement_summary(frame, level=lv), args.repeat)
        rows.append((f"agreement_summary {level} (all statistics)", t, None, None))

    width = max(len(r[0]) for r in rows)
    print(f"{'statistic':<{width}}  {'llmkit':>9}  {'reference':>9}  {'speed-up':>8}  max |diff|")
    for name, t, ref_t, diff in rows:
        ref_s = f"{ref_t * 1e3:7.1f}ms" if ref_t is not None else "        -"
        ratio = f"{ref_t / t:7.1f}x" if ref_t is not None else "       -"
        diff_s = f"{diff:.1e}" if diff is not None else "-"
        print(f"{name:<{width}}  {t * 1e3:7.1f}ms  {ref_s}  {ratio}  {diff_s}")

    # What the CLI does: read the CSV (strictly) and compute every statistic.
    buffer = io.StringIO()
    frame.assign(value=frame["value"].astype(int)).to_csv(buffer, index=False)
    raw = buffer.getvalue().encode()
    t_read, read = best(lambda: read_ratings_csv(raw), args.repeat)
    t_all, _ = best(lambda: agreement_summary(read, level="ordinal"), args.repeat)
    cpu = time.process_time()
    agreement_summary(read_ratings_csv(raw), level="ordinal")
    cpu = time.process_time() - cpu
    print(
        f"\nCSV of {len(raw) / 1e6:.1f} MB: read {t_read * 1e3:.0f}ms + all statistics "
        f"{t_all * 1e3:.0f}ms = {(t_read + t_all) * 1e3:.0f}ms wall, {cpu * 1e3:.0f}ms CPU "
        "(the CLI's work, imports aside)"
    )

    start = time.perf_counter()
    s = agreement_summary(frame, level="ordinal", ci=True, n_resamples=args.resamples)
    boot = time.perf_counter() - start
    iv = s.intervals["krippendorff_alpha"]
    print(
        f"\nbootstrap, apart: all {len(s.intervals)} statistics x {args.resamples} resamples "
        f"in {boot:.2f}s; ordinal alpha {iv.estimate:.4f} [{iv.low:.4f}, {iv.high:.4f}]"
    )


if __name__ == "__main__":
    main()
