"""``llmkit.evals`` is a curated facade: ``__all__`` sorted, every name resolves, and
``llmkit --help`` lists ``eval`` without importing vcrpy or the SDK."""

from __future__ import annotations

import subprocess
import sys

import llmkit.evals


def test_all_is_sorted_and_resolves() -> None:
    assert llmkit.evals.__all__ == sorted(llmkit.evals.__all__)
    for name in llmkit.evals.__all__:
        assert getattr(llmkit.evals, name) is not None, name


def test_eval_is_listed_lazily() -> None:
    code = (
        "import sys; from llmkit.cli._main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('heavy=' + ','.join(m for m in ('vcr', 'openai', 'llmkit.evals') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "eval " in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "heavy="
