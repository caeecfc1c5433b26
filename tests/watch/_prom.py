"""The real Debian ``prometheus`` and ``promtool``: found on PATH, required under ``CI=true``."""

from __future__ import annotations

import os
import shutil

import pytest


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{name} is not installed: .ci/run installs the prometheus package")
        pytest.skip(f"{name} is not installed (apt-get install prometheus)")
    return path
