"""The ``llmkit`` command. One module per command; each stays thin."""

from llmkit.cli._main import main

__all__ = ["main"]
