"""Every code snippet of the README and the docs runs, as written, against the embedded engine.

A page is a session: its ``bash`` and ``python`` blocks run in order, in one scratch
directory that holds the repository's data folders (``prompts/``, ``annotation/``,
``cassettes/``, ``examples/``), with ``LLMKIT_HOME`` inside it. The one address the docs
use for "your endpoint", ``http://127.0.0.1:8000``, is served by the embedded engine (the
test rewrites it to the engine's port, which is free, not fixed), and ``LLMKIT_BASE_URL``
points there too. ``text`` blocks are output or illustrations and are not run.

A block that cannot run here says why in a marker line right above its fence, and is
skipped with that reason::

    <!-- snippet: skip: needs a real model (llama.cpp) -->

Set-up lines (``python3 -m venv``, ``pip install``) are not run: the test runs inside the
environment they build, and ``.ci/run`` runs the README's own set-up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmkit.engine import EngineConfig, EngineHandle, start_engine

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DOCS_ADDRESS = "http://127.0.0.1:8000"
DOCS_MODEL_ALIASES = ("my-model",)
DATA_DIRS = ("prompts", "annotation", "cassettes", "examples")
RUNNABLE = {"bash", "sh", "python"}
_FENCE = re.compile(
    r"^(?:<!-- snippet: skip: (?P<skip>.+?) -->\n)?```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
_SETUP = re.compile(r"^(?:\S*/)?(?:python3? -m venv|pip3? install)\b")


@dataclass(frozen=True)
class Snippet:
    page: Path
    line: int
    lang: str
    body: str
    skip: str | None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def snippets(page: Path) -> list[Snippet]:
    """The fenced code blocks of one page, in order, with their skip markers."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start("lang")) + 1
        found.append(
            Snippet(page, line, match["lang"], match["body"], match["skip"] and match["skip"])
        )
    return found


def _runnable_pages() -> list[Path]:
    return [p for p in PAGES if any(s.lang in RUNNABLE for s in snippets(p))]


def test_every_code_block_has_a_language() -> None:
    """A bare fence could be a command nobody runs: say ``text`` for output, else run it."""
    bare = [s.where for page in PAGES for s in snippets(page) if not s.lang]
    assert not bare, f"code blocks without a language: {bare}"


def test_every_skip_gives_a_reason_and_sits_on_a_runnable_block() -> None:
    for page in PAGES:
        for s in snippets(page):
            if s.skip is not None:
                assert len(s.skip.strip()) >= 10, f"{s.where}: say why it cannot run here"
                assert s.lang in RUNNABLE, f"{s.where}: only bash/python blocks run"


@pytest.fixture(scope="module")
def engine() -> Iterator[EngineHandle]:
    handle = start_engine(EngineConfig(aliases=DOCS_MODEL_ALIASES))
    try:
        yield handle
    finally:
        handle.stop()


def _session_dir(tmp_path: Path) -> Path:
    for name in DATA_DIRS:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def _env(tmp_path: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMKIT_", "OPENAI_"))}
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        LLMKIT_HOME=str(tmp_path / ".llmkit"),
        LLMKIT_BASE_URL=base_url,
        LLMKIT_API_KEY="sk-docs-test",
        LLMKIT_ANNOTATE_PASSWORD="correct horse battery staple",
        PASSWORD="correct horse battery staple",
        GITHUB_STEP_SUMMARY=str(tmp_path / "step-summary.md"),
        COLUMNS="100",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(snippet: Snippet, cwd: Path, env: dict[str, str], base: str) -> None:
    body = snippet.body.replace(DOCS_ADDRESS, base)
    if snippet.lang == "python":
        cmd = [sys.executable, "-c", body]
    else:
        lines = [ln for ln in body.splitlines() if not _SETUP.match(ln.strip())]
        cmd = ["bash", "-euo", "pipefail", "-c", "\n".join(lines)]
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert proc.returncode == 0, (
        f"{snippet.where}: the {snippet.lang} snippet exited {proc.returncode}\n"
        f"--- snippet\n{snippet.body}--- stdout\n{proc.stdout[-3000:]}"
        f"--- stderr\n{proc.stderr[-3000:]}"
    )


@pytest.mark.slow
@pytest.mark.timeout(900)  # a page is a whole session (the bench page sweeps load)
@pytest.mark.parametrize("page", _runnable_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_snippets_run_as_written(page: Path, engine: EngineHandle, tmp_path: Path) -> None:
    cwd = _session_dir(tmp_path)
    base = engine.base_url.removesuffix("/v1")
    env = _env(tmp_path, engine.base_url)
    skipped = []
    for snippet in snippets(page):
        if snippet.lang not in RUNNABLE:
            continue
        if snippet.skip is not None:
            skipped.append(f"{snippet.where}: {snippet.skip}")
            continue
        _run(snippet, cwd, env, base)
    if skipped and all(
        s.skip is not None for s in snippets(page) if s.lang in RUNNABLE
    ):  # nothing on the page ran: report it as skipped, with every reason
        pytest.skip("; ".join(skipped))
