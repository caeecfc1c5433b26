"""Model output as the rater should read it: Markdown rendered on the server, then sanitised.

markdown-it-py renders CommonMark plus tables and strikethrough with raw HTML switched
off (so ``<script>`` in an answer stays text); nh3 then keeps only an allow-list of tags
and attributes (no ``style=``, which table alignment adds and the CSP's ``style-src
'self'`` would refuse; no images; links only to http, https and mailto, each with
``rel="noopener nofollow"``). Fenced code with a known language is highlighted by
Pygments into CSS classes (``static/pygments.css``), never inline styles.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["MAX_HIGHLIGHT", "render_markdown"]

MAX_HIGHLIGHT = 20_000  # longer code blocks are shown plain: highlighting cost grows with size
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    "span", "div",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"class", "dir"},
    "a": {"href", "title"},
    "ol": {"start"},
    "pre": {"data-lang"},
}


@functools.cache
def _parser() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")  # no remote images (and the CSP would refuse them anyway)
    md.add_render_rule("fence", _fence)
    return md


def _fence(renderer: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
    """A fenced block: highlighted when its language is known and it is not huge."""
    from markupsafe import escape

    token = tokens[idx]
    lang = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    code = token.content
    body = str(escape(code))
    if lang and len(code) <= MAX_HIGHLIGHT:
        from pygments import highlight  # type: ignore[import-untyped]

        lexer = _lexer(lang.lower())
        if lexer is not None:
            body = highlight(code, lexer, _formatter())
    label = f' data-lang="{escape(lang)}"' if lang else ""
    return f'<pre class="code highlight" dir="ltr"{label}><code>{body}</code></pre>\n'


@functools.cache
def _formatter() -> Any:
    """One formatter for every block: making one builds its whole stylesheet (~2 ms)."""
    from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]

    return HtmlFormatter(nowrap=True)


@functools.lru_cache(maxsize=256)
def _lexer(lang: str) -> Any:
    """The lexer named ``lang``, or None; only a named one: guessing runs every lexer."""
    from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]
    from pygments.util import ClassNotFound  # type: ignore[import-untyped]

    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


@functools.lru_cache(maxsize=512)
def render_markdown(text: str) -> str:
    """``text`` (Markdown from a model) as safe HTML."""
    import nh3

    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
        strip_comments=True,
    )
