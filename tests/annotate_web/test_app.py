"""The web app over HTTP (in-process client): login, roles, CSRF, isolation, escaping, rating."""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from annotate_web.support import PASSWORD, Seeded, login, token
from llmkit.annotate import _schema as t
from llmkit.annotate import final_labels, load_rubric, ratings
from llmkit.annotate._web import create_app


def client(seeded: Seeded, **kwargs: Any) -> TestClient:
    return TestClient(create_app(seeded.store, secret_key="test-secret", **kwargs))


def queue_ids(seeded: Seeded, rater: str) -> dict[str, int]:
    return {e.item_id: e.assignment_id for e in seeded.store.queue(rater)}


def test_login_lands_on_the_first_pending_item_and_wrong_password_is_refused(
    seeded: Seeded,
) -> None:
    c = client(seeded)
    bad = login(c, "ada", "not the password")
    assert bad.status_code == 401
    assert "Wrong name or password." in bad.text
    assert login(c, "nobody").status_code == 401
    ok = login(c, "ada")
    assert ok.status_code == 200
    first = seeded.store.queue("ada")[0]
    assert ok.url.path == f"/rate/{first.assignment_id}"
    assert "Item 1 of" in ok.text


def test_pages_need_a_login_and_the_right_role(seeded: Seeded) -> None:
    c = client(seeded)
    for path in ("/rate", "/queue", "/adjudicate", "/admin", "/admin/files/ratings.csv"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", path
    login(c, "ada")
    for path in ("/adjudicate", "/adjudicate/c-000", "/admin", "/admin/files/ratings.csv"):
        assert c.get(path).status_code == 403, path
    judy = client(seeded)
    login(judy, "judy")
    assert judy.get("/adjudicate").status_code == 200
    assert judy.get("/admin").status_code == 403
    root = client(seeded)
    login(root, "root")
    assert root.get("/admin").status_code == 200
    assert root.get("/adjudicate").status_code == 200


def post_routes(app: Any) -> list[str]:
    paths = []
    for route in app.routes:
        if "POST" in (getattr(route, "methods", None) or ()):
            path = route.path.replace("{assignment_id:int}", "1").replace("{item_id:path}", "c-000")
            paths.append(path)
    return paths


def test_every_post_without_the_csrf_token_is_refused(seeded: Seeded) -> None:
    c = client(seeded)
    login(c, "root")  # an admin: every route would accept the request but for the token
    paths = post_routes(c.app)
    assert {"/login", "/logout", "/rate/1", "/admin/import", "/adjudicate/c-000"} <= set(paths)
    before = seeded.store.count("submissions")
    for path in paths:
        # a rating or skip with a stale token goes back into the rater's own form, unsaved
        kept = path in ("/rate/1", "/rate/1/skip")
        refused = {303} if kept else {403}
        r = c.post(path, data={"n": "1"}, follow_redirects=False)
        assert r.status_code in refused, path
        r = c.post(path, data={"csrf_token": "forged"}, follow_redirects=False)
        assert r.status_code in refused, path
        forged = c.post(
            path, data={"n": "1"}, headers={"X-CSRF-Token": "forged"}, follow_redirects=False
        )
        assert forged.status_code in refused, path
        if kept:
            assert forged.headers["location"] == "/rate/1"
    assert seeded.store.count("submissions") == before
    assert c.get("/admin").status_code == 200  # still logged in: the logout was refused too


def test_htmx_requests_pass_with_the_token_in_the_header(seeded: Seeded) -> None:
    c = client(seeded)
    page = login(c, "root")
    csrf = token(page.text)
    r = c.post(
        "/admin/sample",
        data={"n": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert r.status_code == 200
    assert r.text.startswith('<p class="result refused"')  # a fragment, not a page
    assert "no conversations left" in r.text  # every item was sampled by the fixture


def test_a_rater_cannot_read_or_write_another_raters_queue(seeded: Seeded) -> None:
    ada, grace = queue_ids(seeded, "ada"), queue_ids(seeded, "grace")
    only_grace = next(aid for item, aid in grace.items() if item not in ada)
    c = client(seeded)
    csrf = token(login(c, "ada").text)
    assert c.get(f"/rate/{only_grace}").status_code == 404
    assert c.get("/rate/999999").status_code == 404
    before = seeded.store.count("submissions")
    r = c.post(f"/rate/{only_grace}", data={"csrf_token": csrf, "dim.overall_quality": "1"})
    assert r.status_code == 404
    r = c.post(f"/rate/{only_grace}/skip", data={"csrf_token": csrf, "reason": "x"})
    assert r.status_code == 404
    assert seeded.store.count("submissions") == before
    # grace's assignment of an item both rate is not ada's either
    shared = next(item for item in grace if item in ada)
    assert c.get(f"/rate/{grace[shared]}").status_code == 404


def rate(c: TestClient, aid: int, values: dict[str, str]) -> Any:
    page = c.get(f"/rate/{aid}")
    assert page.status_code == 200
    data = {"csrf_token": token(page.text), "shown_at": str(time.time() - 5)}
    data.update({f"dim.{k}": v for k, v in values.items()})
    return c.post(f"/rate/{aid}", data=data, follow_redirects=False)


def test_rating_stores_values_defaults_and_time_then_moves_on(seeded: Seeded) -> None:
    c = client(seeded)
    login(c, "ada")
    queue = seeded.store.queue("ada")
    r = rate(c, queue[0].assignment_id, {"overall_quality": "5", "comment": "fine"})
    assert r.status_code == 303 and r.headers["location"] == f"/rate/{queue[1].assignment_id}"
    frame = ratings(seeded.store)
    mine = frame[(frame["rater"] == "ada") & (frame["item_id"] == queue[0].item_id)]
    values = dict(zip(mine["dimension"], mine["value"], strict=True))
    assert values["overall_quality"] == "5"
    assert values["comment"] == "fine"
    assert "correctness" not in values  # never chosen: left out of ratings by default
    every = ratings(seeded.store, include_untouched=True)
    every = every[(every["rater"] == "ada") & (every["item_id"] == queue[0].item_id)]
    untouched = every[~every["touched"]]
    assert dict(zip(untouched["dimension"], untouched["value"], strict=True))["correctness"] == "4"
    defaulted = {d.key for d in load_rubric("assistant-quality").dimensions if d.default}
    assert set(untouched["dimension"]) == defaulted - {"overall_quality"}
    assert 4.0 <= float(mine["seconds"].iloc[0]) < 600


def test_skip_needs_a_reason_and_edit_makes_a_new_latest_submission(seeded: Seeded) -> None:
    c = client(seeded)
    csrf = token(login(c, "ada").text)
    queue = seeded.store.queue("ada")
    r = c.post(f"/rate/{queue[0].assignment_id}/skip", data={"csrf_token": csrf})
    assert r.status_code == 400
    r = c.post(
        f"/rate/{queue[0].assignment_id}/skip",
        data={"csrf_token": csrf, "reason": "other", "detail": "broken encoding"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert seeded.store.queue("ada")[0].status == "skipped"
    rate(c, queue[1].assignment_id, {"overall_quality": "2"})
    page = c.get(f"/rate/{queue[1].assignment_id}")
    assert re.search(r'value="2" data-key="2" checked', page.text)  # the own past rating
    rate(c, queue[1].assignment_id, {"overall_quality": "4"})
    frame = ratings(seeded.store)
    row = frame[
        (frame["item_id"] == queue[1].item_id)
        & (frame["rater"] == "ada")
        & (frame["dimension"] == "overall_quality")
    ]
    assert row["value"].tolist() == ["4"]
    everything = ratings(seeded.store, latest=False)
    assert len(everything[everything["item_id"] == queue[1].item_id]) > len(row)
    listing = c.get("/queue").text
    assert "skipped" in listing and "edit" in listing


def test_off_scale_value_is_refused_and_nothing_is_stored(seeded: Seeded) -> None:
    c = client(seeded)
    login(c, "ada")
    aid = seeded.store.queue("ada")[0].assignment_id
    assert rate(c, aid, {"overall_quality": "9"}).status_code == 400
    assert seeded.store.count("submissions") == 0


_PLAIN = ("c-001", "gold-1")  # the long item and the gold item hold no payload


def test_hostile_text_is_escaped_and_no_page_has_inline_script(seeded: Seeded) -> None:
    c = client(seeded)
    login(c, "ada")
    aid = next(aid for item, aid in queue_ids(seeded, "ada").items() if item not in _PLAIN)
    page = c.get(f"/rate/{aid}")
    assert "&lt;script&gt;document.title" in page.text
    assert '<script>document.title="pwned"' not in page.text
    assert "<img src=x" not in page.text
    assert '<a href="javascript:' not in page.text
    assert "&lt;i&gt;with tags&lt;/i&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert float(page.headers["server-timing"].split("dur=")[1]) >= 0
    pages = [page.text, c.get("/queue").text, c.get("/login").text]
    root = client(seeded)
    pages += [login(root, "root").text, root.get("/adjudicate").text]
    for html in pages:
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert not re.search(r"<[a-z]+\b[^>]*\son[a-z]+=", html)  # no real tag with a handler


def test_a_rater_never_sees_others_ratings_nor_gold(seeded: Seeded) -> None:
    ada, grace = queue_ids(seeded, "ada"), queue_ids(seeded, "grace")
    shared = next(item for item in grace if item in ada and item.startswith("c-"))
    g = client(seeded)
    login(g, "grace")
    rate(g, grace[shared], {"overall_quality": "1", "comment": "GRACE-PRIVATE-NOTE"})
    a = client(seeded)
    login(a, "ada")
    page = a.get(f"/rate/{ada[shared]}").text
    assert "GRACE-PRIVATE-NOTE" not in page
    assert "grace" not in page
    assert " checked" not in page  # nothing pre-selected, and never grace's 1
    gold = next(aid for item, aid in ada.items() if item == "gold-1")
    gold_page = a.get(f"/rate/{gold}").text
    assert "gold" not in gold_page.replace("gold-1", "")
    assert not re.search(r'value="5" data-key="5" checked', gold_page)


@pytest.mark.slow
def test_pairwise_sides_are_randomised_and_recorded(tmp_path: Any) -> None:
    from llmkit.annotate import Store, assign, import_jsonl, parse_rubric, sample
    from llmkit.annotate._web._view import pairwise_left

    rubric = parse_rubric(
        "name: pairs\ndimensions:\n  - key: better\n    title: Better answer\n"
        "    scale: {type: pairwise}\n    guideline: Which answer helps more?\n"
    )
    lines = [
        json.dumps(
            {
                "id": f"p-{i}",
                "messages": [
                    {"role": "user", "content": "Q?"},
                    {"role": "assistant", "name": "A", "content": f"ANSWER-A-{i}"},
                    {"role": "assistant", "name": "B", "content": f"ANSWER-B-{i}"},
                ],
            }
        )
        for i in range(12)
    ]
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    import_jsonl(store, lines, name="p.jsonl")
    store.add_user("ada", "rater", PASSWORD)
    sample(store, 12, day="2026-11-30")
    assign(store, ["ada"], rubric=rubric, overlap=0.0)
    c = TestClient(create_app(store, secret_key="k"))
    login(c, "ada")
    lefts = set()
    for entry in store.queue("ada"):
        left = pairwise_left(entry.assignment_id)
        lefts.add(left)
        html = c.get(f"/rate/{entry.assignment_id}").text
        i = entry.item_id.split("-")[1]
        assert html.index(f"ANSWER-{left}-{i}") < html.index(
            f"ANSWER-{'B' if left == 'A' else 'A'}-{i}"
        )
        # key 1 (the left answer) carries the left answer's value
        assert re.search(rf'value="{left}" data-key="1"', html)
        rate(c, entry.assignment_id, {"better": left})
    assert lefts == {"A", "B"}  # both sides occur over 12 items
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.submissions.c.assignment_id, t.submissions.c.extra_json)
        ).all()
    for aid, extra in rows:
        assert json.loads(extra) == {"pairwise_left": pairwise_left(aid)}
    frame = ratings(store)
    assert sorted(frame["value"]) == sorted(
        pairwise_left(e.assignment_id) for e in store.queue("ada")
    )
    store.close()


def test_adjudicator_sees_every_rating_and_sets_a_final_label(seeded: Seeded) -> None:
    ada, grace = queue_ids(seeded, "ada"), queue_ids(seeded, "grace")
    shared = next(item for item in grace if item in ada and item.startswith("c-"))
    a, g = client(seeded), client(seeded)
    login(a, "ada")
    login(g, "grace")
    rate(a, ada[shared], {"overall_quality": "1", "comment": "ADA <b>says</b> bad"})
    rate(g, grace[shared], {"overall_quality": "5", "comment": "GRACE says good"})
    j = client(seeded)
    listing = login(j, "judy")
    assert listing.url.path == "/adjudicate"
    assert shared in listing.text
    page = j.get(f"/adjudicate/{shared}")
    assert "ADA &lt;b&gt;says&lt;/b&gt; bad" in page.text and "GRACE says good" in page.text
    r = j.post(
        f"/adjudicate/{shared}",
        data={
            "csrf_token": token(page.text),
            "dimension": "overall_quality",
            "value": "3",
            "note": "split the difference",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200 and "Final label set" in r.text
    final = final_labels(seeded.store)
    row = final[(final["item_id"] == shared) & (final["dimension"] == "overall_quality")]
    assert row["value"].tolist() == ["3"] and row["decided_by"].tolist() == ["judy"]
    assert {s["rater"] for s in row["sources"].iloc[0]} == {"ada", "grace"}
    assert shared not in j.get("/adjudicate").text  # settled
    csrf = token(a.get("/queue").text)
    refused = a.post(
        f"/adjudicate/{shared}",
        data={"csrf_token": csrf, "dimension": "overall_quality", "value": "1"},
    )
    assert refused.status_code == 403


def test_admin_imports_samples_assigns_and_sees_reports(seeded: Seeded) -> None:
    c = client(seeded)
    page = login(c, "root")
    csrf = token(page.text)
    lines = "\n".join(
        json.dumps(
            {"id": f"new-{i}", "messages": [{"role": "user", "content": "mail a@b.example"}]}
        )
        for i in range(4)
    )
    r = c.post(
        "/admin/import",
        data={"csrf_token": csrf, "redact": "1"},
        files={"file": ("x.jsonl", lines.encode(), "application/jsonl")},
        follow_redirects=True,
    )
    assert "Imported 4 conversations (4 redactions)" in r.text
    r = c.post(
        "/admin/import",
        data={"csrf_token": csrf},
        files={"file": ("x.jsonl", b"{bad", "x")},
        follow_redirects=True,
    )
    assert "Refused:" in r.text and seeded.store.count("items") == 17
    r = c.post(
        "/admin/sample",
        data={"csrf_token": csrf, "n": "4", "day": "2026-12-01"},
        follow_redirects=True,
    )
    assert "Sampled 4 conversations for 2026-12-01" in r.text
    r = c.post(
        "/admin/assign",
        data={"csrf_token": csrf, "raters": "ada", "overlap": "0"},
        follow_redirects=True,
    )
    assert "Assigned sample" in r.text
    assert len(seeded.store.queue("ada", day="2026-12-01")) == 4
    # a new day never hides unfinished work: the earlier day's items stay, oldest first
    days = [e.day for e in seeded.store.queue("ada")]
    assert days[-4:] == ["2026-12-01"] * 4 and set(days[:-4]) == {"2026-11-30"}
    older = next(e for e in seeded.store.queue("ada") if e.day == "2026-11-30")
    ada = client(seeded)
    login(ada, "ada")
    assert ada.get(f"/rate/{older.assignment_id}").status_code == 200
    assert "Item 1 of 14" in ada.get(f"/rate/{older.assignment_id}").text
    csv = c.get("/admin/files/ratings.csv")
    assert csv.status_code == 200 and csv.text.startswith("item_id,rater,dimension")
    assert c.get("/admin/files/nope").status_code == 404


def test_sessions_are_signed(seeded: Seeded) -> None:
    c = client(seeded)
    login(c, "ada")
    assert c.get("/queue").status_code == 200
    cookie = c.cookies.get("llmkit_annotate")
    assert cookie
    forged = client(seeded)
    forged.cookies.set("llmkit_annotate", cookie[:-4] + "AAAA")
    assert forged.get("/queue", follow_redirects=False).status_code == 303


def test_serve_without_the_web_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from llmkit.cli._annotate import annotate

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = CliRunner().invoke(annotate, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "pip install 'llmkit[web]'" in result.output


def test_templates_and_static_files_are_package_data() -> None:
    import fnmatch
    import tomllib
    from pathlib import Path

    import llmkit

    root = Path(llmkit.__file__).parent
    pyproject = root.parent / "pyproject.toml"
    if not pyproject.exists():
        pytest.skip("installed without the source tree")
    globs = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]["llmkit"]
    files = [
        p.relative_to(root).as_posix()
        for folder in ("templates", "static")
        for p in (root / "annotate" / "_web" / folder).iterdir()
    ]
    assert len(files) >= 10
    for name in files:
        assert any(fnmatch.fnmatch(name, g) for g in globs), f"{name} is not package data"


def test_pairwise_choices_by_side_for_raters_and_by_name_for_adjudicators() -> None:
    from llmkit.annotate import parse_rubric
    from llmkit.annotate._web._view import choices

    dim = parse_rubric(
        "name: pairs\ndimensions:\n  - key: better\n    title: Better\n"
        "    scale: {type: pairwise}\n    guideline: Which?\n"
    ).dimension("better")
    shown = choices(dim, left="B")
    assert [(c.value, c.label, c.key) for c in shown] == [
        ("B", "left", "1"),
        ("A", "right", "2"),
        ("tie", "tie", "0"),
    ]
    assert [(c.value, c.label) for c in choices(dim, left=None)] == [
        ("A", "A"),
        ("B", "B"),
        ("tie", "tie"),
    ]
