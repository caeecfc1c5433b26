"""Cold start: the first ``llmkit.parse`` in a fresh interpreter against importing its
two dependencies (issue 14 §4: at most 1.1x the baseline).

Each round starts fresh interpreters alternately (baseline, then llmkit) so that load on
a shared machine falls on both alike; the medians of ``--runs`` rounds are compared.

Measured here (20 rounds, 2-core shared machine; baseline ~78 ms):

=======================  ==========  ======================================
first parse              before      after
=======================  ==========  ======================================
with a schema            1.25-1.36x  0.74-0.75x (jsonschema-rs checks and
                                     validates; jsonschema waits for need)
without a schema         1.16-1.26x  0.58-0.59x (no validator at all)
with a schema, base      -           1.18x (no ``fast`` extra: jsonschema
install                              is imported, checks and validates)
=======================  ==========  ======================================

Run: ``python benchmarks/cold_start.py [--runs 20]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

BASELINE = "import yaml, jsonschema"
FIRST_PARSE = (
    "import llmkit; r = llmkit.parse('title: ok\\ncount: 3', "
    "{'type': 'object', 'properties': {'count': {'type': 'integer'}}}); assert r.ok"
)
NO_SCHEMA = "import llmkit; assert llmkit.parse('a: 1').ok"
# the base install: no `fast` extra, jsonschema checks and validates alone
WITHOUT_FAST = "import sys; sys.modules['jsonschema_rs'] = None; " + FIRST_PARSE


# as installed: bytecode cached (an environment with PYTHONDONTWRITEBYTECODE would time
# the compiler instead), in a cache of its own so the tree stays clean
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "llmkit-cold-start-pyc")


def once(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=_ENV)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args(argv)
    codes = {"import yaml, jsonschema": BASELINE, "first parse, schema": FIRST_PARSE}
    codes["first parse, no schema"] = NO_SCHEMA
    codes["first parse, schema, no fast"] = WITHOUT_FAST
    times: dict[str, list[float]] = {name: [] for name in codes}
    for code in codes.values():
        once(code)  # bytecode written, files in the page cache
    for _ in range(args.runs):
        for name, code in codes.items():
            times[name].append(once(code))
    base = statistics.median(times["import yaml, jsonschema"])
    print(f"{'':28}{'median ms':>10}{'ratio':>8}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:28}{1000 * med:>10.1f}{med / base:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
