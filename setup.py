"""Build step: ship the data kept at the top of the repository inside the wheel.

People edit ``prompts/`` (templates), ``annotation/`` (rubrics, sample conversations) and
``cassettes/`` (recorded traffic) where they are; each is committed once, and a plain
``pip install .`` copies what the package needs into it, so ``load_prompt``,
``default_rubric()`` and ``llmkit.evals.example_suite_path()`` work anywhere. An editable
install reads the checkout in place. Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent

# (source directory, glob patterns, target inside the built package)
SHIPPED: list[tuple[str, tuple[str, ...], str]] = [
    ("prompts", ("*.yaml", "*.yml"), "llmkit/_prompts_data"),
    ("annotation", ("*.jsonl", "rubrics/*.yaml", "rubrics/*.yml"), "llmkit/annotate/data"),
    ("prompts", ("support_ticket.eval.yaml",), "llmkit/evals/data"),
    ("cassettes", ("support_ticket/*.yaml",), "llmkit/evals/data/cassettes"),
]


def shipped_files() -> list[tuple[Path, str]]:
    """(source file, path inside the built tree) of every file the build copies."""
    files = []
    for source, patterns, target in SHIPPED:
        base = ROOT / source
        for pattern in patterns:
            for src in sorted(base.glob(pattern)):
                files.append((src, f"{target}/{src.relative_to(base).as_posix()}"))
    return files


class BuildPyWithData(build_py):
    """``build_py`` that also copies the top-level data into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's data in place
        for src, rel in shipped_files():
            target = Path(self.build_lib) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            self.copy_file(str(src), str(target))


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import the table
    setup(cmdclass={"build_py": BuildPyWithData})
