"""Build step: ship the top-level ``prompts/`` inside the wheel as ``llmkit/_prompts_data``.

``prompts/`` stays the one place people edit templates; a plain ``pip install .`` copies
them into the package so ``llmkit.load_prompt("support_ticket")`` works anywhere.
Everything else about the build lives in ``pyproject.toml``.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

_SOURCE = Path(__file__).resolve().parent / "prompts"


class BuildPyWithPrompts(build_py):
    """``build_py`` that also copies ``prompts/*.yaml`` into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's prompts/ in place
        target = Path(self.build_lib) / "llmkit" / "_prompts_data"
        target.mkdir(parents=True, exist_ok=True)
        for src in sorted([*_SOURCE.glob("*.yaml"), *_SOURCE.glob("*.yml")]):
            self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": BuildPyWithPrompts})
