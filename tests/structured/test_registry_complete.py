"""Whatever a process imports first, the registry it reads holds every built-in rule."""

from __future__ import annotations

import subprocess
import sys

import pytest

FIRST_USES = {
    "a prompt rendered before any parse": (
        "from llmkit.prompts import load_prompt\n"
        "first = load_prompt('support_ticket').render(message='x')\n"
        "import llmkit\n"
        "llmkit.parse('a: 1', None)\n"
        "assert first == load_prompt('support_ticket').render(message='x'), first\n"
    ),
    "the public rules() called first": (
        "import llmkit.structured as s\n"
        "n = len(s.rules())\n"
        "s.parse('a: 1', None)\n"
        "assert n == len(s.rules()) and n > 20, n\n"
    ),
    "hint lines asked for first": (
        "from llmkit.structured import hint_lines\n"
        "first = hint_lines(['extract_fence'])\n"
        "assert first and 'fence' in first[0], first\n"
    ),
}


@pytest.mark.parametrize("code", FIRST_USES.values(), ids=FIRST_USES.keys())
def test_first_use_sees_every_builtin_rule(code: str) -> None:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
