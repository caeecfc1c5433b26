"""Prompt templates: eval suites are not templates, and a built wheel ships the templates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmkit.prompts import list_prompts, load_prompt, prompt_dirs

ROOT = Path(__file__).resolve().parent.parent

TEMPLATE = """\
name: greet
version: 2
messages:
  - role: user
    content: "Say hello to {{who}}."
"""


@pytest.fixture
def own_prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A prompts folder of our own, first in the search path, outside the repository."""
    folder = tmp_path / "mine"
    folder.mkdir()
    monkeypatch.setenv("LLMKIT_PROMPTS_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    return folder


def test_list_prompts_skips_eval_suites(own_prompts: Path) -> None:
    (own_prompts / "greet.yaml").write_text(TEMPLATE, encoding="utf-8")
    (own_prompts / "greet.eval.yaml").write_text("cases: []\n", encoding="utf-8")
    (own_prompts / "notes.txt").write_text("not a template\n", encoding="utf-8")
    names = list_prompts()
    assert "greet" in names
    assert not [n for n in names if n.endswith(".eval")]
    assert "notes" not in names


def test_own_folder_comes_first(own_prompts: Path) -> None:
    (own_prompts / "support_ticket.yaml").write_text(TEMPLATE, encoding="utf-8")
    assert prompt_dirs()[0] == own_prompts
    assert load_prompt("support_ticket").version == "2"
    assert load_prompt("support_ticket").render(who="Ann")[0]["content"] == "Say hello to Ann."


def test_built_package_ships_the_templates(tmp_path: Path) -> None:
    """The build step copies prompts/ into the package; found with no checkout around."""
    build = tmp_path / "build"
    egg, lib = ["egg_info", "--egg-base", str(tmp_path)], ["build_py", "--build-lib", str(build)]
    subprocess.run(
        [sys.executable, "setup.py", "-q", *egg, *lib],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    shipped = build / "llmkit" / "_prompts_data"
    wanted = sorted(p.name for p in (ROOT / "prompts").glob("*.yaml"))
    assert wanted and sorted(p.name for p in shipped.glob("*.yaml")) == wanted
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "LLMKIT_PROMPTS_DIR"}
    env["PYTHONPATH"] = str(build)
    code = (
        "import llmkit; t = llmkit.load_prompt('support_ticket'); print(t.path); "
        "from llmkit.prompts import list_prompts; print(','.join(list_prompts()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.splitlines()
    assert Path(out[0]) == shipped / "support_ticket.yaml"
    assert "support_ticket" in out[1].split(",")


def test_cached_format_instructions_follow_a_hint_registered_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llmkit.prompts import PromptTemplate
    from llmkit.structured import _rules

    messages = ({"role": "user", "content": "hi"},)
    template = PromptTemplate("x", "1", messages, {"type": "object"}, hints=("strip_prose",))
    first = template.render()[0]["content"]
    assert template.render()[0]["content"] == first  # served from the cache
    monkeypatch.setitem(_rules._EXTRA_HINTS, "strip_prose", "A hint registered later.")
    assert "A hint registered later." in template.render()[0]["content"]
