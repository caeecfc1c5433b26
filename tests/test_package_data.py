"""The data committed once at the top of the repository ships inside the built package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_COPIES = ("llmkit/annotate/data", "llmkit/evals/data", "llmkit/_prompts_data")


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("build")
    out = tmp / "lib"
    egg, lib = ["egg_info", "--egg-base", str(tmp)], ["build_py", "--build-lib", str(out)]
    subprocess.run([sys.executable, "setup.py", "-q", *egg, *lib], cwd=ROOT, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    return out


def test_no_copy_of_the_data_is_committed() -> None:
    for copy in PACKAGE_COPIES:
        assert not (ROOT / copy).exists(), f"{copy} is made by the build: remove it"


def test_the_build_copies_every_file_byte_for_byte(build: Path) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from setup import shipped_files
    finally:
        sys.path.remove(str(ROOT))
    files = shipped_files()
    sources = {src.relative_to(ROOT).parts[0] for src, _ in files}
    assert sources == {"prompts", "annotation", "cassettes"}
    assert any(rel.endswith("conversations.jsonl") for _, rel in files)
    assert sum(rel.startswith("llmkit/evals/data/cassettes/") for _, rel in files) >= 11
    for src, rel in files:
        assert (build / rel).read_bytes() == src.read_bytes(), rel


def test_an_install_finds_its_data_without_a_checkout(build: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMKIT_")}
    env["PYTHONPATH"] = str(build)
    code = (
        "from llmkit.annotate import default_rubric, sample_conversations_path\n"
        "from llmkit.evals import example_suite_path, load_suite, run_suite\n"
        "print(default_rubric().name); print(sample_conversations_path())\n"
        "run = run_suite(load_suite(example_suite_path()), 'replay')\n"
        "print(example_suite_path()); print(run.summary()['pass_rate'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout.split("\n")  # fmt: skip
    assert out[0] == "assistant-quality"
    assert Path(out[1]).is_relative_to(build) and Path(out[2]).is_relative_to(build)
    assert float(out[3]) > 0.5
