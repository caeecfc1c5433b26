"""The public API is exactly what the README documents, sorted, and every name resolves."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import llmkit

README = Path(__file__).resolve().parents[1] / "README.md"


def _documented_names() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Public API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `([A-Za-z_]+)`", section, flags=re.MULTILINE)


def test_all_is_sorted_and_resolves() -> None:
    assert llmkit.__all__ == sorted(llmkit.__all__)
    for name in llmkit.__all__:
        assert getattr(llmkit, name) is not None, name


def test_all_matches_readme() -> None:
    assert sorted(_documented_names()) == llmkit.__all__


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
