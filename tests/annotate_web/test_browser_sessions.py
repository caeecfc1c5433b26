"""In Chromium: a rating typed, or a skip chosen, while the session ran out is kept through a new login."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from annotate_web.support import LiveServer, Seeded
from annotate_web.test_browser import (  # noqa: F401 - no_csp_violations is a fixture
    keyboard_login,
    no_csp_violations,
    open_page,
    values_of,
)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def live_clocked(seeded: Seeded, clock: Clock) -> Iterator[LiveServer]:
    with LiveServer(seeded.store, session_idle=600, clock=clock) as server:
        yield server


@pytest.fixture
def ada_page(browser: Any, live_clocked: LiveServer) -> Any:
    """Ada logged in, on her first item."""
    page = open_page(browser, live_clocked)
    keyboard_login(page, live_clocked, "ada")
    return page


@pytest.mark.slow
def test_an_expired_session_keeps_the_typed_rating_through_a_new_login(
    ada_page: Any, live_clocked: LiveServer, seeded: Seeded, clock: Clock
) -> None:
    page = ada_page
    url = page.url
    item = seeded.store.queue("ada")[0].item_id
    page.keyboard.press("F")  # the first item is the long one: unfold it to read it
    page.keyboard.press("2")  # overall quality 2
    page.keyboard.press("C")
    page.keyboard.type("half of it is invented")
    page.keyboard.press("Escape")
    clock.now += 3600  # the rater went to lunch with the page open
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: u.endswith("/login"))
    assert "Your session ended before that answer was saved" in page.inner_text("body")
    assert values_of(seeded, "ada", item) == {}
    keyboard_login(page, live_clocked, "ada")
    assert page.url == url
    assert page.is_checked('input[name="dim.overall_quality"][value="2"]')
    assert page.input_value('textarea[name="dim.comment"]') == "half of it is invented"
    page.keyboard.press("F")  # a fresh page: the long message is folded again
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: u != url)
    stored = values_of(seeded, "ada", item)
    assert stored["overall_quality"] == "2" and stored["comment"] == "half of it is invented"


@pytest.mark.slow
def test_an_expired_session_keeps_the_chosen_skip_through_a_new_login(
    ada_page: Any, live_clocked: LiveServer, seeded: Seeded, clock: Clock
) -> None:
    page = ada_page
    url = page.url
    aid = seeded.store.queue("ada")[0].assignment_id
    page.keyboard.press("S")  # opens the skip box, the reason focused
    page.select_option("#skip-reason", "needs domain expertise")
    page.fill("#skip-detail", "tax law of 1850")
    clock.now += 3600  # the rater went to lunch with the box open
    page.click("#skip-form button[type=submit]")
    page.wait_for_url(lambda u: u.endswith("/login"))
    assert "Your session ended before that skip was saved" in page.inner_text("body")
    assert seeded.store.queue("ada")[0].status == "pending"
    keyboard_login(page, live_clocked, "ada")
    assert page.url == url
    assert page.locator("#skip-box").get_attribute("open") is not None
    assert page.input_value("#skip-reason") == "needs domain expertise"
    assert page.input_value("#skip-detail") == "tax law of 1850"
    page.click("#skip-form button[type=submit]")
    page.wait_for_url(lambda u: u != url)
    (entry,) = [e for e in seeded.store.queue("ada") if e.assignment_id == aid]
    assert entry.status == "skipped"
