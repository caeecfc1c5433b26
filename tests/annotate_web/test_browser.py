"""The web app in Debian's chromium, driven by Playwright: keyboard rating, skip, edit,
a second rater's view, adjudication, escaping, and screenshots as test artefacts.

Never ``playwright install``: the tests drive ``/usr/bin/chromium`` (``.ci/run`` installs
it). Under ``CI=true`` a missing browser fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotate_web.support import PASSWORD, LiveServer, Seeded
from llmkit.annotate import final_labels, ratings


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("LLMKIT_TEST_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"annotate-web-{name}.png"), full_page=True)


def open_page(browser: Any, live: LiveServer) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.dialogs: list[str] = []  # type: ignore[misc]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    # a Content-Security-Policy violation (inline script or style) would be logged here
    page.on(
        "console",
        lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page


CSP_VIOLATIONS: list[str] = []


@pytest.fixture(autouse=True)
def no_csp_violations() -> Iterator[None]:
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == []


def keyboard_login(page: Any, live: LiveServer, name: str) -> None:
    page.goto(f"{live.url}/login")
    # the name field has autofocus; typing before it takes focus would type into nothing
    # (Playwright's expect polls from its own injected script: a wait_for_function string
    # is compiled in the page, which the page's CSP rightly refuses as eval)
    from playwright.sync_api import expect

    expect(page.locator("input[name='name']")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def values_of(seeded: Seeded, rater: str, item_id: str) -> dict[str, str]:
    frame = ratings(seeded.store)
    rows = frame[(frame["rater"] == rater) & (frame["item_id"] == item_id)]
    return dict(zip(rows["dimension"], rows["value"], strict=True))


def item_of(page: Any) -> str:
    return str(page.locator("section.conversation h2").inner_text()).split()[-1]


def wait_for_next(page: Any, url: str) -> None:
    page.wait_for_url(lambda u: u != url)


@pytest.mark.slow
def test_rate_skip_and_edit_by_keyboard_only(
    browser: Any, live: LiveServer, seeded: Seeded
) -> None:
    page = open_page(browser, live)
    keyboard_login(page, live, "ada")
    assert "/rate/" in page.url

    # 1. nothing pre-selected: one keystroke stores the defaults, marked untouched
    first, url = item_of(page), page.url
    assert page.locator("fieldset.dim input[type=radio]:checked").count() == 0
    assert page.locator("details.fold").count() == 1  # the first item is the long one
    page.keyboard.press("Enter")  # never unfolded: Enter opens it instead of submitting
    assert page.locator("details.fold[open]").count() == 1
    assert page.locator("#fold-note").is_visible() and page.url == url
    page.keyboard.press("Enter")  # read now: Enter sends
    wait_for_next(page, url)
    assert values_of(seeded, "ada", first) == {}
    every = ratings(seeded.store, include_untouched=True)
    mine = every[(every["rater"] == "ada") & (every["item_id"] == first)]
    assert not mine["touched"].any() and "3" in set(mine["value"])

    # 2. change four dimensions and write a comment, keys only
    second, url = item_of(page), page.url
    page.keyboard.press("2")  # overall quality 2, moves on to correctness
    page.keyboard.press("5")  # correctness 5, moves on to helpfulness
    page.keyboard.press("=")  # accept helpfulness's default (3) with one key
    page.keyboard.press("y")  # hallucination yes
    page.keyboard.press("b")  # responsible-AI: biased
    page.keyboard.press("C")
    page.keyboard.type("made-up <b>price</b>")
    page.keyboard.press("Escape")
    page.keyboard.press("?")  # the guideline is one key away
    assert page.locator("fieldset.dim.active details.guide[open]").count() == 1
    shot(page, "rating")
    page.keyboard.press("Enter")
    wait_for_next(page, url)
    got = values_of(seeded, "ada", second)
    assert got["overall_quality"] == "2" and got["correctness"] == "5"
    assert got["helpfulness"] == "3" and got["hallucination"] == "yes"
    assert got["rai_violation"] == "biased" and got["comment"] == "made-up <b>price</b>"

    # 3. skip with a reason
    third, url = item_of(page), page.url
    page.keyboard.press("S")
    page.keyboard.press("Tab")  # from the reason list to the detail field
    page.keyboard.type("garbled text")
    page.keyboard.press("Enter")
    wait_for_next(page, url)
    statuses = {e.item_id: e.status for e in seeded.store.queue("ada")}
    assert statuses[third] == "skipped"

    # 4. back to an earlier item and edit the own rating
    page.goto(page.url)  # any item; P walks back
    while item_of(page) != second:
        url = page.url
        page.keyboard.press("P")
        wait_for_next(page, url)
    assert page.locator('input[name="dim.overall_quality"][value="2"]').is_checked()
    url = page.url
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    wait_for_next(page, url)
    assert values_of(seeded, "ada", second)["overall_quality"] == "4"
    assert values_of(seeded, "ada", second)["comment"] == "made-up <b>price</b>"
    seconds = ratings(seeded.store)
    assert (seconds[seconds["rater"] == "ada"]["seconds"] >= 0).all()
    assert page.dialogs == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_payloads_render_as_text_and_never_run(
    browser: Any, live: LiveServer, seeded: Seeded
) -> None:
    page = open_page(browser, live)
    keyboard_login(page, live, "ada")
    aid = next(
        e.assignment_id for e in seeded.store.queue("ada") if e.item_id not in ("c-001", "gold-1")
    )
    page.goto(f"{live.url}/rate/{aid}")
    text = page.locator("section.conversation").inner_text()
    assert '<script>document.title="pwned"</script>' in text
    assert "javascript:document.title" in text
    assert page.title() != "pwned"
    assert page.locator("section.conversation script, section.conversation img").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    page.locator("section.conversation .md").first.click()
    assert page.title() != "pwned" and page.dialogs == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_second_rater_does_not_see_the_first_raters_ratings(
    browser: Any, live: LiveServer, seeded: Seeded
) -> None:
    ada = {e.item_id: e.assignment_id for e in seeded.store.queue("ada")}
    grace = {e.item_id: e.assignment_id for e in seeded.store.queue("grace")}
    shared = next(i for i in ada if i in grace and i.startswith("c-") and i != "c-001")
    page = open_page(browser, live)
    keyboard_login(page, live, "ada")
    page.goto(f"{live.url}/rate/{ada[shared]}")
    page.keyboard.press("1")
    page.keyboard.press("C")
    page.keyboard.type("ADA-ONLY-NOTE")
    page.keyboard.press("Escape")
    url = page.url
    page.keyboard.press("Enter")
    wait_for_next(page, url)
    other = open_page(browser, live)
    keyboard_login(other, live, "grace")
    other.goto(f"{live.url}/rate/{grace[shared]}")
    assert "ADA-ONLY-NOTE" not in other.content()
    assert other.locator("fieldset.dim input[type=radio]:checked").count() == 0  # not ada's 1
    response = other.goto(f"{live.url}/rate/{ada[shared]}")
    assert response is not None and response.status == 404


@pytest.mark.slow
def test_adjudicate_and_admin_pages(browser: Any, live: LiveServer, seeded: Seeded) -> None:
    ada = {e.item_id: e.assignment_id for e in seeded.store.queue("ada")}
    grace = {e.item_id: e.assignment_id for e in seeded.store.queue("grace")}
    shared = next(i for i in ada if i in grace and i.startswith("c-") and i != "c-001")
    seeded.store.rate(
        "ada", shared, {"overall_quality": "1", "comment": "ada: wrong"}, assignment_id=ada[shared]
    )
    seeded.store.rate(
        "grace",
        shared,
        {"overall_quality": "5", "comment": "grace: <i>great</i>"},
        assignment_id=grace[shared],
    )
    page = open_page(browser, live)
    keyboard_login(page, live, "judy")
    page.click(f"text={shared}")
    page.wait_for_selector("form.final-form")  # the item's page, not the list it came from
    assert "grace: <i>great</i>" in page.locator("table.ratings").inner_text()
    form = page.locator("form.final-form").filter(
        has=page.locator('input[value="overall_quality"]')
    )
    form.locator("select").select_option("2")
    form.locator('input[name="note"]').fill("both half right")
    form.locator("button").click()
    # the flash of this submission, not any earlier one: the label is stored by then
    page.wait_for_selector(".flash:has-text('Final label set')")
    shot(page, "adjudication")
    final = final_labels(seeded.store)
    row = final[(final["item_id"] == shared) & (final["dimension"] == "overall_quality")]
    assert row["value"].tolist() == ["2"] and row["note"].tolist() == ["both half right"]

    admin = open_page(browser, live)
    keyboard_login(admin, live, "root")
    assert admin.url.endswith("/admin")
    admin.fill('input[name="n"]', "3")
    admin.click("form[hx-post='/admin/sample'] button")  # htmx, with the CSRF header from app.js
    admin.wait_for_selector("#sample-result .result")
    assert "no conversations left" in admin.locator("#sample-result").inner_text()
    shot(admin, "admin")
