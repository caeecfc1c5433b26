"""Import time of each entry point, side by side with its floor, in fresh interpreters.

Run: ``python benchmarks/import_time.py [--repeat 7]``

Each line starts a new interpreter ``--repeat`` times and keeps the best wall time (the
least disturbed by other work on the machine); the interpreter's own start (``pass``) is
subtracted. The goals (issue 16):

- ``llmkit.parse`` (first call included) no slower than ``import yaml, jsonschema``;
- a first ``Client.chat`` within 10% of ``import openai`` plus the same first call made with
  the bare openai SDK (the floor of any client built on it);
- ``import llmkit`` and ``llmkit --help`` import nothing heavy.

Measured here (best of 7, 2-core shared machine, bytecode cached):

==================================  ======  ===================================
entry point                         ratio   floor
==================================  ======  ===================================
first ``llmkit.parse``              0.67x   ``import yaml, jsonschema`` (60 ms)
same, base install (no ``fast``)    1.23x   (jsonschema checks and validates)
first ``Client.chat``               1.05x   the SDK's first chat (491 ms; 1.10x
                                            before one TLS context was shared)
same, against ``import openai``     1.21x   (the SDK's own first chat: 1.15x)
httpx2 + SSE reader, no SDK         0.22x   ``import openai`` (96 ms vs 431 ms)
==================================  ======  ===================================

``import openai`` is 83% of a first call (openai 3.x builds its types at import): too
slow for a short-lived process whatever wraps it. The leaner path, the same streamed
call over httpx2 with llmkit's SSE reader, starts in a fifth of that time; taking it
means a client that does not import the SDK (its errors, retries' status mapping and
response types rebuilt in llmkit): measured here, not built.

The client lines call an embedded engine started here (zero delay, so the call itself
costs next to nothing). Each line also lists the heavy modules the entry point loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HEAVY = ("openai", "pydantic", "yaml", "jsonschema", "jsonschema_rs", "rich", "aiohttp",
         "pandas", "numpy", "sqlalchemy", "vcr", "matplotlib", "tenacity")  # fmt: skip

SCHEMA = '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}'

# name -> (code, floor name or None)
CASES: dict[str, tuple[str, str | None]] = {
    "pass": ("pass", None),
    "import llmkit": ("import llmkit", "pass"),
    "llmkit --help": (
        "from llmkit.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
        "pass",
    ),
    "import yaml, jsonschema": ("import yaml, jsonschema", "pass"),
    "first llmkit.parse": (
        f"import json, llmkit\nllmkit.parse('n: 3', schema=json.loads({SCHEMA!r}))",
        "import yaml, jsonschema",
    ),
    "first llmkit.parse, no fast extra": (
        "import sys\nsys.modules['jsonschema_rs'] = None  # the base install\n"
        f"import json, llmkit\nllmkit.parse('n: 3', schema=json.loads({SCHEMA!r}))",
        "import yaml, jsonschema",
    ),
    "import openai": ("import openai", "pass"),
    "openai SDK: first chat": (
        "import openai, sys\n"
        "c = openai.OpenAI(base_url=sys.argv[1], api_key='x', max_retries=0)\n"
        "c.chat.completions.create(model='llmkit-sim', messages=[{'role': 'user', 'content': 'hi'}],"
        " max_tokens=4)",
        "import openai",
    ),
    # A leaner path, for scale: the same streamed call over httpx2 with llmkit's SSE
    # reader and no SDK (what a client that did not import openai would start from).
    "no SDK: httpx2 + SSE, first chat": (
        "import httpx2, json, sys\n"
        "from llmkit._sse import SSEParser\n"
        "body = {'model': 'llmkit-sim', 'messages': [{'role': 'user', 'content': 'hi'}],"
        " 'max_tokens': 4, 'stream': True}\n"
        "parser = SSEParser()\n"
        "with httpx2.Client() as c, c.stream('POST', sys.argv[1] + '/chat/completions',"
        " json=body) as r:\n"
        "    for chunk in r.iter_raw():\n"
        "        parser.feed(chunk, 0)",
        "import openai",
    ),
    "llmkit: first Client.chat": (
        "import llmkit, sys\n"
        "llmkit.Client(base_url=sys.argv[1], model='llmkit-sim', log=False).chat('hi', max_tokens=4)",
        "openai SDK: first chat",
    ),
}


# as installed: bytecode cached (an environment with PYTHONDONTWRITEBYTECODE would time
# the compiler instead), in a cache of its own so the tree stays clean
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "llmkit-import-time-pyc")


def _once(code: str, url: str) -> tuple[float, list[str]]:
    # (a module blocked with None in sys.modules was not loaded)
    probe = (
        "\nimport sys as _s, json as _j\n"
        f"print(_j.dumps(sorted(m for m in {HEAVY!r} if _s.modules.get(m) is not None)))"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code + probe, url],
        capture_output=True,
        text=True,
        check=True,
        env=_ENV,
    )
    wall = time.perf_counter() - start
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from llmkit.engine import EngineConfig, start_engine

    with start_engine(EngineConfig.zero_delay()) as engine:
        best: dict[str, float] = {}
        loaded: dict[str, list[str]] = {}
        for code, _floor in CASES.values():
            _once(code, engine.base_url)  # bytecode written, files in the page cache
        for _ in range(args.repeat):  # interleaved, so load drift hits every case alike
            for name, (code, _floor) in CASES.items():
                wall, mods = _once(code, engine.base_url)
                best[name] = min(best.get(name, wall), wall)
                loaded[name] = mods
    start = best["pass"]
    print(
        f"interpreter start (pass): {start * 1000:.0f} ms, subtracted below; best of {args.repeat}"
    )
    print(f"{'entry point':34} {'ms':>7} {'floor':>24} {'floor ms':>9} {'ratio':>6}  heavy modules")
    for name, (_code, floor) in CASES.items():
        if floor is None:
            continue
        ms = (best[name] - start) * 1000
        floor_ms = (best[floor] - start) * 1000 if floor != "pass" else 0.0
        ratio = f"{ms / floor_ms:5.2f}x" if floor_ms > 0 else "   - "
        print(
            f"{name:34} {ms:7.0f} {floor:>24} {floor_ms:9.0f} {ratio:>6}  {','.join(loaded[name]) or '-'}"
        )


if __name__ == "__main__":
    main()
