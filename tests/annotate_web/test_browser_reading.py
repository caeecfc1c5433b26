"""In Chromium: what a rater reads (Markdown, code, right-to-left text, long lines, an XSS
corpus that stays inert) and the keys for reading (scrolling, Tab, the skip list, raw)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from annotate_web.support import LiveServer, Seeded
from annotate_web.test_browser import (  # noqa: F401 - no_csp_violations is a fixture
    keyboard_login,
    no_csp_violations,
    open_page,
    shot,
)
from llmkit.annotate import assign, import_jsonl, sample

MARKDOWN = (
    """# Shipping times

Orders ship in **two days**; see [the policy](https://example.com/policy) and ~~old~~ rules.

| Region | Days |
|:-------|-----:|
| EU     |    2 |
| US     |    4 |

```python
def eta(region: str) -> int:
    return {"EU": 2, "US": 4}[region]
```

A line that goes on """
    + "and on " * 120
)

XSS_CORPUS = """<script>document.title='pwned'</script>
<img src=x onerror="document.title='pwned'">
[click](javascript:document.title='pwned') [data](data:text/html,<script>alert(1)</script>)
![img](javascript:document.title='pwned')
<a href="javascript:document.title='pwned'">raw link</a>
````
```html
<script>document.title='pwned'</script>
```
````
<svg onload="document.title='pwned'"></svg>"""

RTL = "مرحبا، متى يصل طلبي؟ الطلب رقم 42 وصل إلى المستودع."


@pytest.fixture
def reading(seeded: Seeded) -> dict[str, int]:
    """Three conversations on a new day for ada; their assignment ids by name."""
    convos = [
        ("md", [{"role": "user", "content": "When?"}, {"role": "assistant", "content": MARKDOWN}]),
        ("xss", [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": XSS_CORPUS}]),
        ("rtl", [{"role": "user", "content": RTL}, {"role": "assistant", "content": RTL}]),
    ]
    lines = [json.dumps({"id": f"read-{k}", "messages": m}) for k, m in convos]
    import_jsonl(seeded.store, lines, name="reading.jsonl")
    sample(seeded.store, 3, day="2026-12-03")
    assign(seeded.store, ["ada"], overlap=0.0)
    return {
        e.item_id.split("-")[1]: e.assignment_id
        for e in seeded.store.queue("ada", day="2026-12-03")
    }


def rating_page(browser: Any, live: LiveServer, assignment_id: int) -> Any:
    page = open_page(browser, live)
    keyboard_login(page, live, "ada")
    page.goto(f"{live.url}/rate/{assignment_id}")
    return page


def test_markdown_code_rtl_and_long_lines_render_for_reading(
    browser: Any, live: LiveServer, reading: dict[str, int]
) -> None:
    page = rating_page(browser, live, reading["md"])
    answer = page.locator("article.role-assistant .md")
    assert answer.locator("h1").inner_text() == "Shipping times"
    assert answer.locator("strong").inner_text() == "two days"
    assert answer.locator("table td").count() == 4
    assert answer.locator("[style]").count() == 0  # alignment styles stripped (CSP)
    link = answer.locator("a")
    assert link.get_attribute("rel") == "noopener nofollow"
    assert answer.locator("pre.code span.k").first.inner_text() == "def"  # highlighted
    width = page.evaluate(
        "() => { const c = document.querySelector('section.conversation');"
        " return [c.scrollWidth, c.clientWidth]; }"
    )
    assert width[0] <= width[1]  # the long line wraps instead of running off the side
    page.keyboard.press("R")  # the raw text, one key away
    assert page.locator("article.role-assistant .raw").is_visible()
    assert "| Region | Days |" in page.locator("article.role-assistant .raw").inner_text()
    page.keyboard.press("R")
    assert answer.is_visible()
    shot(page, "markdown-code-long")

    page.goto(f"{live.url}/rate/{reading['rtl']}")
    text = page.locator("article.role-assistant .md p")
    assert text.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert (
        page.locator("section.conversation h2").evaluate("e => getComputedStyle(e).direction")
        == "ltr"
    )
    shot(page, "rtl")


def test_an_xss_corpus_renders_inert(
    browser: Any, live: LiveServer, reading: dict[str, int]
) -> None:
    page = rating_page(browser, live, reading["xss"])
    shown = page.locator("article.role-assistant .md")
    assert shown.locator("script, img, svg, iframe, [onerror], [onload]").count() == 0
    assert page.locator("a[href^='javascript:'], a[href^='data:']").count() == 0
    assert "<script>document.title='pwned'</script>" in shown.inner_text()
    for anchor in shown.locator("a").all():
        anchor.click()
    page.keyboard.press("R")
    page.keyboard.press("R")
    assert page.title() != "pwned" and page.dialogs == []  # type: ignore[attr-defined]
    shot(page, "xss-corpus")


def test_reading_keys_scroll_reach_links_and_work_in_the_skip_list(
    browser: Any, live: LiveServer, seeded: Seeded, reading: dict[str, int]
) -> None:
    page = open_page(browser, live)
    page.set_viewport_size({"width": 1000, "height": 500})
    keyboard_login(page, live, "ada")
    page.goto(f"{live.url}/rate/{reading['md']}")
    top = "() => document.querySelector('section.conversation').scrollTop"
    assert page.evaluate(top) == 0
    page.keyboard.press("PageDown")
    assert page.evaluate(top) > 0
    page.keyboard.press("End")
    bottom = page.evaluate(top)
    page.keyboard.press("Home")
    assert page.evaluate(top) == 0 < bottom
    page.keyboard.press("Space")
    assert page.evaluate(top) > 0

    tabbed = []
    for _ in range(8):  # Tab walks the page's links and buttons like anywhere else
        page.keyboard.press("Tab")
        tabbed.append(page.evaluate("() => document.activeElement.tagName"))
    assert "A" in tabbed

    page.locator("body").click(position={"x": 5, "y": 5})
    url = page.url
    page.keyboard.press("S")
    assert page.evaluate("() => document.activeElement.id") == "skip-reason"
    page.keyboard.press("Escape")  # closes the skip box and leaves the item as it was
    assert not page.locator("#skip-box").evaluate("e => e.open")
    page.keyboard.press("s")  # lower case too, where the dimension does not use it
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # Enter in the reason list skips
    page.wait_for_url(lambda u: u != url)
    skipped = {e.item_id: e.status for e in seeded.store.queue("ada", day="2026-12-03")}
    assert skipped["read-md"] == "skipped"
