"""The raters' web app for :mod:`llmkit.annotate` (``llmkit annotate serve``).

Needs the ``web`` extra: ``pip install 'llmkit[web]'``.
"""

from __future__ import annotations

from llmkit.extras import require_extra as _require_extra

_require_extra("the annotation web app", "web")

from llmkit.annotate._web.app import SESSION_MAX_AGE, create_app

__all__ = ["SESSION_MAX_AGE", "create_app"]
