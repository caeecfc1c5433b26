"""What the pages show: the queue's filters and skip reasons, the admin's agreement and
counts, and the times an edited rating keeps."""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
from starlette.testclient import TestClient

from annotate_web.support import Seeded, login, token
from llmkit.annotate import agreement_summary, ratings
from llmkit.annotate._web import create_app


def client(seeded: Seeded) -> TestClient:
    return TestClient(create_app(seeded.store, secret_key="test-secret"))


def test_the_queue_filters_by_status_and_day_and_shows_skip_reasons(seeded: Seeded) -> None:
    c = client(seeded)
    csrf = token(login(c, "ada").text)
    queue = seeded.store.queue("ada")
    c.post(
        f"/rate/{queue[0].assignment_id}/skip",
        data={"csrf_token": csrf, "reason": "other", "detail": "text is in Klingon"},
    )
    c.post(f"/rate/{queue[1].assignment_id}", data={"csrf_token": csrf, "dim.overall_quality": "4"})
    page = c.get("/queue").text
    assert f"1 rated · 1 skipped · {len(queue) - 2} to do, of {len(queue)}." in page
    assert "other: text is in Klingon" in page
    skipped = c.get("/queue?status=skipped").text
    assert skipped.count('<tr class="status-') == 1 and queue[0].item_id in skipped
    assert c.get("/queue?status=pending").text.count('<tr class="status-') == len(queue) - 2
    assert c.get("/queue?day=2026-11-30").text.count('<tr class="status-') == len(queue)
    assert "Nothing matches" in c.get("/queue?day=1999-01-01").text
    rate_page = c.get(f"/rate/{queue[2].assignment_id}").text
    assert "1 rated, 1 skipped" in rate_page  # a skip is not counted as rated


def test_admin_agreement_counts_shared_items_at_each_dimensions_level(seeded: Seeded) -> None:
    store = seeded.store
    ada = {e.item_id: e.assignment_id for e in store.queue("ada")}
    grace = {e.item_id: e.assignment_id for e in store.queue("grace")}
    shared = sorted(set(ada) & set(grace) - {"gold-1"})
    assert len(shared) >= 3
    for n, item in enumerate(sorted(ada)):
        if item != "gold-1":
            store.rate("ada", item, {"overall_quality": str(1 + n % 5)}, assignment_id=ada[item])
    for n, item in enumerate(shared):
        value = str(1 + (n + (n % 2)) % 5)
        store.rate("grace", item, {"overall_quality": value}, assignment_id=grace[item])
    root = client(seeded)
    login(root, "root")
    page = root.get("/admin").text
    row = re.search(r"<tr><td>overall_quality</td>(.*?)</tr>", page, re.S)
    assert row, page[-3000:]
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    frame = ratings(store, include_gold=False)
    frame = frame[(frame["dimension"] == "overall_quality") & frame["item_id"].isin(shared)]
    expected = agreement_summary(frame.rename(columns={"item_id": "item"}), level="ordinal")
    assert cells[0] == str(len(shared))  # only items rated by two raters
    assert cells[1] == "ordinal"
    assert cells[2] == f"{expected.krippendorff_alpha:.3f}"
    assert re.fullmatch(r"-?\d\.\d{3} – -?\d\.\d{3}", cells[3])  # the interval


def test_an_htmx_import_reloads_the_page_so_the_counts_are_current(seeded: Seeded) -> None:
    root = client(seeded)
    csrf = token(login(root, "root").text)
    line = json.dumps({"id": "new-1", "messages": [{"role": "user", "content": "hi"}]})
    r = root.post(
        "/admin/import",
        files={"file": ("a.jsonl", line.encode())},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert r.headers["hx-refresh"] == "true"
    page = root.get("/admin").text
    assert "Imported 1 conversations" in page
    assert f"{seeded.store.count('items')} conversations" in page


def disputed_item(store: Any) -> tuple[str, dict[str, int], dict[str, int]]:
    """An item ada rates 1 and grace 5; the item and both raters' assignment ids."""
    ada = {e.item_id: e.assignment_id for e in store.queue("ada")}
    grace = {e.item_id: e.assignment_id for e in store.queue("grace")}
    item = sorted(set(ada) & set(grace) - {"gold-1"})[0]
    store.rate("ada", item, {"overall_quality": "1"}, assignment_id=ada[item])
    store.rate("grace", item, {"overall_quality": "5"}, assignment_id=grace[item])
    return item, ada, grace


def test_the_adjudicators_final_label_has_no_default(seeded: Seeded) -> None:
    item, _, _ = disputed_item(seeded.store)
    judy = client(seeded)
    login(judy, "judy")
    page = judy.get(f"/adjudicate/{item}").text
    assert '<option value="" selected disabled>choose…</option>' in page
    assert re.search(r'<select name="value" required>', page)


def test_an_edited_rating_keeps_its_first_time(seeded: Seeded) -> None:
    store = seeded.store
    entry = store.queue("ada")[0]
    for value, when in (("2", 1_700_000_000.0), ("4", 1_700_086_400.0)):  # rated, then edited
        aid = entry.assignment_id
        store.rate(
            "ada", entry.item_id, {"overall_quality": value}, assignment_id=aid, rated_at=when
        )
    frame: Any = ratings(store)
    row = frame[(frame["item_id"] == entry.item_id) & (frame["dimension"] == "overall_quality")]
    assert row["value"].tolist() == ["4"]
    assert row["rated_at"].iloc[0] == pd.Timestamp(1_700_086_400.0, unit="s", tz="UTC")
    assert row["first_rated_at"].iloc[0] == pd.Timestamp(1_700_000_000.0, unit="s", tz="UTC")


def test_a_queue_read_by_one_server_sees_ratings_stored_by_another(seeded: Seeded) -> None:
    first, second = client(seeded), client(seeded)  # two server processes, one store
    csrf = token(login(first, "ada").text)
    login(second, "ada")
    queue = seeded.store.queue("ada")
    assert "0 rated" in first.get("/queue").text
    second.post(
        f"/rate/{queue[0].assignment_id}",
        data={
            "csrf_token": token(second.get(f"/rate/{queue[0].assignment_id}").text),
            "dim.overall_quality": "3",
        },
    )
    assert "1 rated" in first.get("/queue").text
    # this server's own submit, then one stored elsewhere at once (say, from the CLI)
    first.post(f"/rate/{queue[1].assignment_id}", data={"csrf_token": csrf, "dim.style": "2"})
    seeded.store.rate("ada", queue[2].item_id, {"style": "5"}, assignment_id=queue[2].assignment_id)
    assert "3 rated" in first.get("/queue").text
    assert "4 rated" not in first.get("/queue").text
    seeded.store.skip("ada", queue[3].assignment_id, "other")
    assert "1 skipped" in first.get("/queue").text


def test_the_admin_lists_every_queue_with_filters(seeded: Seeded) -> None:
    store = seeded.store
    item, ada, grace = disputed_item(store)
    other = next(i for i in ada if i != item)
    store.skip("ada", ada[other], "needs domain expertise")
    root = client(seeded)
    login(root, "root")
    rows = '<tr class="status-'
    total = len(ada) + len(grace)
    assert f"{total} of {total} assignments" in root.get("/admin/queue").text
    assert root.get("/admin/queue?rater=grace").text.count(rows) == len(grace)
    disputed = root.get("/admin/queue?disputed=1").text
    assert disputed.count(rows) == 2 and item in disputed
    skipped = root.get("/admin/queue?status=skipped&rater=ada").text
    assert skipped.count(rows) == 1 and "needs domain expertise" in skipped
    assert root.get("/admin/queue?day=1999-01-01").text.count(rows) == 0
    ada_client = client(seeded)
    login(ada_client, "ada")
    assert ada_client.get("/admin/queue").status_code == 403


def test_a_rubric_may_ask_for_its_defaults_pre_selected(tmp_path: Any) -> None:
    from annotate_web.support import CHEAP_HASHER, PASSWORD
    from llmkit.annotate import Store, assign, default_rubric, import_jsonl, parse_rubric, sample

    assert "preselect_defaults" not in default_rubric().content  # older hashes unchanged
    rubric = parse_rubric(
        "name: quick\npreselect_defaults: true\ndimensions:\n  - key: ok\n    title: OK\n"
        "    scale: {type: binary, labels: {yes: fine, no: not fine}}\n"
        "    guideline: Is it fine?\n    default: 'yes'\n"
    )
    assert rubric.preselect_defaults and rubric.content["preselect_defaults"] is True
    store = Store(tmp_path / "p.db", password_hasher=CHEAP_HASHER)
    line = json.dumps({"id": "q-1", "messages": [{"role": "user", "content": "hi"}]})
    import_jsonl(store, [line], name="q.jsonl")
    store.add_user("ada", "rater", PASSWORD)
    sample(store, 1, day="2026-12-01")
    assign(store, ["ada"], rubric=rubric, overlap=0.0)
    c = TestClient(create_app(store, secret_key="k"))
    page = login(c, "ada")
    assert re.search(r'name="dim.ok" value="yes" data-key="y" checked', page.text)
    store.close()


def test_metrics_leave_untouched_defaults_out_unless_asked(seeded: Seeded) -> None:
    from llmkit.annotate import daily_metrics

    c = client(seeded)
    csrf = token(login(c, "ada").text)
    for entry in seeded.store.queue("ada")[:3]:  # only overall quality chosen
        data = {"csrf_token": csrf, "dim.overall_quality": "2"}
        assert c.post(f"/rate/{entry.assignment_id}", data=data).status_code == 200
    chosen = set(daily_metrics(seeded.store, n_resamples=10)["dimension"])
    every = set(daily_metrics(seeded.store, n_resamples=10, include_untouched=True)["dimension"])
    assert "overall_quality" in chosen and "correctness" not in chosen
    assert "correctness" in every
