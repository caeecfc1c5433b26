"""The public API is sorted and every name resolves (its reference page: tests/test_docs.py)."""

from __future__ import annotations

import subprocess
import sys

import llmkit


def test_all_is_sorted_and_resolves() -> None:
    assert llmkit.__all__ == sorted(llmkit.__all__)
    for name in llmkit.__all__:
        assert getattr(llmkit, name) is not None, name


def test_import_is_lazy_and_cli_help_is_fast() -> None:
    # `llmkit --help` must not import the SDK, pandas or matplotlib.
    code = (
        "import sys; from llmkit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('openai', 'pandas', 'matplotlib', 'aiohttp') if m in sys.modules]\n"
        "print('heavy=' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "heavy="
