"""Sessions and accounts over HTTP: server-side sessions, expiry that never eats a rating,
account changes that take effect at once, login limits, and names that cannot impersonate."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from annotate_web.support import CHEAP_HASHER, PASSWORD, Seeded, login, token
from llmkit.annotate import AnnotationError, Store, ratings
from llmkit.annotate._accounts import set_active, set_password, set_role
from llmkit.annotate._web import create_app


class Clock:
    """A clock the test moves forward instead of sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def client(seeded: Seeded, **kwargs: Any) -> TestClient:
    return TestClient(create_app(seeded.store, secret_key="test-secret", **kwargs))


def logged_in(c: TestClient) -> bool:
    return c.get("/queue", follow_redirects=False).status_code == 200


def test_logout_ends_the_session_on_the_server(seeded: Seeded) -> None:
    c = client(seeded)
    csrf = token(login(c, "ada").text)
    saved = c.cookies.get("llmkit_annotate")
    aid = seeded.store.queue("ada")[0].assignment_id
    assert c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    replay = client(seeded)
    replay.cookies.set("llmkit_annotate", saved)  # the cookie as it was before logging out
    assert not logged_in(replay)
    r = replay.post(f"/rate/{aid}", data={"csrf_token": csrf, "dim.overall_quality": "5"})
    assert r.status_code == 403
    assert seeded.store.count("submissions") == 0


def test_activity_slides_the_session_up_to_its_absolute_cap(seeded: Seeded) -> None:
    clock = Clock()
    c = client(seeded, session_idle=600, session_max_age=3600, clock=clock)
    login(c, "ada")
    for _ in range(5):  # 5 × 9 minutes: past the idle time, but active
        clock.now += 540
        assert logged_in(c)
    clock.now += 3600 - 5 * 540  # past the absolute cap, however active
    assert not logged_in(c)
    idle = client(seeded, session_idle=600, session_max_age=3600, clock=clock)
    login(idle, "ada")
    clock.now += 601
    assert not logged_in(idle)


def test_a_submit_after_expiry_is_kept_and_restored_after_login(seeded: Seeded) -> None:
    clock = Clock()
    c = client(seeded, session_idle=600, clock=clock)
    login(c, "ada")
    queue = seeded.store.queue("ada")
    aid = queue[0].assignment_id
    page = c.get(f"/rate/{aid}")
    clock.now += 3600  # lunch
    sent = {
        "csrf_token": token(page.text),
        "shown_at": str(time.time() - 30),
        "dim.overall_quality": "2",
        "dim.hallucination": "yes",
        "dim.comment": "made-up citation in <para> 2",
    }
    r = c.post(f"/rate/{aid}", data=sent, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert seeded.store.count("submissions") == 0  # nothing stored without a live session
    assert "Your session ended before that answer was saved" in c.get("/login").text
    back = login(c, "ada")
    assert back.url.path == f"/rate/{aid}"  # the same item, with the answers filled in
    assert re.search(r'name="dim.overall_quality" value="2" data-key="2" checked', back.text)
    assert re.search(r'name="dim.hallucination" value="yes" data-key="y" checked', back.text)
    assert "made-up citation in &lt;para&gt; 2</textarea>" in back.text
    r = c.post(f"/rate/{aid}", data={**sent, "csrf_token": token(back.text)})
    frame = ratings(seeded.store)
    mine = frame[(frame["rater"] == "ada") & (frame["item_id"] == queue[0].item_id)]
    values = dict(zip(mine["dimension"], mine["value"], strict=True))
    assert values["overall_quality"] == "2" and values["comment"].startswith("made-up")
    # the draft is used once: reloading shows the stored rating, not a stale draft
    again = c.get(f"/rate/{aid}")
    assert re.search(r'value="2" data-key="2" checked', again.text)


def _page_left_open_over_lunch(seeded: Seeded) -> tuple[TestClient, int, str]:
    """Ada's client, her first assignment, and its page as loaded before the session ended."""
    clock = Clock()
    c = client(seeded, session_idle=600, clock=clock)
    login(c, "ada")
    aid = seeded.store.queue("ada")[0].assignment_id
    page = c.get(f"/rate/{aid}").text
    clock.now += 3600  # lunch
    return c, aid, page


def _skip_box(html: str) -> tuple[bool, str, str]:
    """Whether the skip box is open, the reason selected and the detail filled in."""
    opened = re.search(r'<details class="skip" id="skip-box"( open)?>', html)
    reason = re.search(r"<option selected>([^<]*)</option>", html)
    detail = re.search(r'id="skip-detail"[^>]*value="([^"]*)"', html)
    assert opened and detail
    return bool(opened.group(1)), reason.group(1) if reason else "", detail.group(1)


def test_a_skip_after_expiry_is_kept_and_restored_after_login(seeded: Seeded) -> None:
    c, aid, page = _page_left_open_over_lunch(seeded)
    assert _skip_box(page) == (False, "", "")
    sent = {"csrf_token": token(page), "reason": "other", "detail": "a <b>broken</b> table"}
    r = c.post(f"/rate/{aid}/skip", data=sent, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert seeded.store.queue("ada")[0].status == "pending"  # nothing stored without a session
    assert "Your session ended before that skip was saved" in c.get("/login").text
    back = login(c, "ada")
    assert back.url.path == f"/rate/{aid}"  # the same item, its skip form filled in
    assert _skip_box(back.text) == (True, "other", "a &lt;b&gt;broken&lt;/b&gt; table")
    r = c.post(f"/rate/{aid}/skip", data={**sent, "csrf_token": token(back.text)})
    assert r.status_code == 200
    (entry,) = [e for e in seeded.store.queue("ada") if e.assignment_id == aid]
    assert entry.status == "skipped"
    assert "other: a &lt;b&gt;broken&lt;/b&gt; table" in c.get("/queue?status=skipped").text
    assert _skip_box(c.get(f"/rate/{aid}").text)[0] is False  # the draft is used once


def test_a_skip_from_a_page_older_than_the_login_comes_back_unsaved(seeded: Seeded) -> None:
    c = client(seeded)
    login(c, "ada")
    aid = seeded.store.queue("ada")[0].assignment_id
    old = c.get(f"/rate/{aid}")
    login(c, "ada")  # logged in again (another tab): the old page's token is stale
    sent = {"csrf_token": token(old.text), "reason": "needs domain expertise", "detail": ""}
    r = c.post(f"/rate/{aid}/skip", data=sent, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/rate/{aid}"
    assert seeded.store.queue("ada")[0].status == "pending"
    back = c.get(f"/rate/{aid}")
    assert "so the item was not skipped yet" in back.text
    assert _skip_box(back.text) == (True, "needs domain expertise", "")


def test_another_user_never_gets_someone_elses_draft(seeded: Seeded) -> None:
    c, aid, page = _page_left_open_over_lunch(seeded)
    c.post(
        f"/rate/{aid}",
        data={"csrf_token": token(page), "dim.comment": "ada's secret note"},
        follow_redirects=False,
    )
    grace = login(c, "grace")  # same browser, another person
    assert "ada&#39;s secret note" not in grace.text and "secret note" not in grace.text


def test_admin_account_changes_take_effect_at_once(seeded: Seeded) -> None:
    ada = client(seeded)
    login(ada, "ada")
    root = client(seeded)
    csrf = token(login(root, "root").text)

    def act(**fields: str) -> str:
        r = root.post("/admin/users", data={"csrf_token": csrf, **fields})
        assert r.status_code == 200
        return r.text

    assert "deactivated" in act(name="ada", action="deactivate")
    assert not logged_in(ada)
    assert login(ada, "ada").status_code == 401
    assert "ada is active" in act(name="ada", action="reactivate")
    assert login(ada, "ada").status_code == 200
    assert "New password set for ada" in act(name="ada", action="password", password="n3w-passw0rd")
    assert not logged_in(ada)
    assert login(ada, "ada").status_code == 401
    assert login(ada, "ada", "n3w-passw0rd").status_code == 200
    assert "ada is now adjudicator" in act(name="ada", action="role", role="adjudicator")
    assert ada.get("/adjudicate").status_code == 200
    assert "Ended 1 sessions of ada" in act(name="ada", action="revoke")
    assert not logged_in(ada)
    assert "Refused: no user" in act(name="nobody", action="revoke")
    assert "Refused: the password needs" in act(name="ada", action="password", password="short")
    assert "cannot deactivate or demote themselves" in act(name="root", action="deactivate")
    assert logged_in(root)
    assert client(seeded).post("/admin/users", data={"name": "ada"}).status_code == 403


@pytest.mark.slow
def test_the_cli_manages_accounts(seeded: Seeded) -> None:
    from llmkit.cli._annotate import annotate

    ada = client(seeded)
    login(ada, "ada")
    run = CliRunner().invoke
    db = ["--db", seeded.url]
    assert run(annotate, ["user", "deactivate", "ada", *db]).exit_code == 0
    assert not logged_in(ada)
    listing = run(annotate, ["user", "list", *db])
    assert re.search(r"ada\s+rater\s+inactive", listing.output)
    assert run(annotate, ["user", "reactivate", "ada", *db]).exit_code == 0
    assert run(annotate, ["user", "role", "ada", "admin", *db]).exit_code == 0
    assert seeded.store.user("ada").role == "admin"
    done = run(annotate, ["user", "password", "ada", *db], input="an0ther-passw0rd\n")
    assert done.exit_code == 0, done.output
    assert login(ada, "ada", "an0ther-passw0rd").status_code == 200
    assert "ended 1 sessions" in run(annotate, ["user", "revoke", "ada", *db]).output
    missing = run(annotate, ["user", "deactivate", "nobody", *db])
    assert missing.exit_code != 0 and "no user 'nobody'" in missing.output


def test_ten_failures_lock_the_account_with_retry_after_and_an_admin_lifts_it(
    seeded: Seeded,
) -> None:
    clock = Clock()
    c = client(seeded, clock=clock, logins_per_minute=1000)
    for _ in range(10):
        assert login(c, "ada", "wrong password").status_code == 401
    locked = login(c, "ADA", PASSWORD)  # the right password, any spelling: still waits
    assert locked.status_code == 429 and locked.headers["retry-after"] == "30"
    clock.now += 31
    assert login(c, "ada", "wrong again").status_code == 401  # the 11th: the wait doubles
    assert login(c, "ada").headers["retry-after"] == "60"
    assert login(client(seeded), "grace").status_code == 200  # others are not affected
    root = client(seeded)
    csrf = token(login(root, "root").text)
    r = root.post("/admin/users", data={"csrf_token": csrf, "name": "ada", "action": "unlock"})
    assert "Login lockout lifted for ada" in r.text
    assert login(c, "ada").status_code == 200


def test_logins_per_address_are_limited_before_any_hashing(seeded: Seeded) -> None:
    c = client(seeded, logins_per_minute=3)
    for _ in range(3):
        assert login(c, "nobody", "guess-guess").status_code == 401
    r = login(c, "ada")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("<b>ada</b>", "U+003C"),
        ("ada\u202enimda", "U+202E"),
        ("ada\u200bx", "U+200B"),
        ("two words", "U+0020"),
        ("ＡＤＡ", "exists already (as 'ada')"),
        ("Ada", "exists already (as 'ada')"),
    ],
)
def test_names_that_could_impersonate_are_refused(seeded: Seeded, name: str, why: str) -> None:
    with pytest.raises(AnnotationError, match=re.escape(why)):
        seeded.store.add_user(name, "rater", PASSWORD)


def test_names_compare_without_case_or_width_and_old_collisions_are_reported(
    tmp_path: Any,
) -> None:
    import sqlalchemy as sa

    from llmkit.annotate import _schema as t
    from llmkit.cli._annotate import annotate

    store = Store(tmp_path / "s.db", password_hasher=CHEAP_HASHER)
    store.add_user("Grace", "rater", PASSWORD)
    assert store.user("ｇｒａｃｅ").name == "Grace"
    assert store.verify_password("GRACE", PASSWORD) is not None
    with store.transaction() as conn:  # a store from before the rule held both spellings
        conn.execute(
            t.users.insert().values(
                name="grace",
                name_key="grace",
                role="admin",
                password_hash=CHEAP_HASHER.hash(PASSWORD),
                active=True,
                created_at=0.0,
            )
        )
        assert conn.execute(sa.select(sa.func.count()).select_from(t.users)).scalar() == 2
    assert store.user("grace").role == "admin" and store.user("Grace").role == "rater"
    store.close()
    out = CliRunner().invoke(annotate, ["user", "list", "--db", str(tmp_path / "s.db")])
    assert "warning: Grace, grace now count as one name" in out.output


def test_account_functions_refuse_unknown_users_and_roles(seeded: Seeded) -> None:
    with pytest.raises(AnnotationError, match="no user 'nobody'"):
        set_active(seeded.store, "nobody", False)
    with pytest.raises(AnnotationError, match="role 'boss'"):
        set_role(seeded.store, "ada", "boss")
    with pytest.raises(AnnotationError, match="at least 8"):
        set_password(seeded.store, "ada", "short")


def test_a_rating_from_a_page_older_than_the_latest_login_comes_back_unsaved(
    seeded: Seeded,
) -> None:
    c = client(seeded)
    login(c, "ada")
    aid = seeded.store.queue("ada")[0].assignment_id
    old_page = c.get(f"/rate/{aid}")
    login(c, "ada")  # logged in again (another tab): a new CSRF token
    r = c.post(
        f"/rate/{aid}",
        data={"csrf_token": token(old_page.text), "dim.overall_quality": "5", "dim.comment": "ok"},
    )
    assert r.url.path == f"/rate/{aid}" and "That page was out of date" in r.text
    assert re.search(r'name="dim.overall_quality" value="5" data-key="5" checked', r.text)
    assert seeded.store.count("submissions") == 0
    again = c.post(
        f"/rate/{aid}",
        data={"csrf_token": token(r.text), "dim.overall_quality": "5"},
        follow_redirects=False,
    )
    assert again.status_code == 303 and seeded.store.count("submissions") == 1


@pytest.mark.slow
def test_sessions_drafts_and_lockouts_on_postgresql(
    tmp_path: Any, postgres_schema_url: str
) -> None:
    from annotate_web.support import seed

    store = seed(postgres_schema_url, tmp_path)
    try:
        clock = Clock()
        c = TestClient(create_app(store, secret_key="k", session_idle=600, clock=clock))
        csrf = token(login(c, "ada").text)
        aid = store.queue("ada")[0].assignment_id
        clock.now += 601
        r = c.post(f"/rate/{aid}", data={"csrf_token": csrf, "dim.overall_quality": "2"})
        assert r.url.path == "/login" and store.count("submissions") == 0
        back = login(c, "ada")
        assert back.url.path == f"/rate/{aid}" and 'value="2" data-key="2" checked' in back.text
        saved = c.cookies.get("llmkit_annotate")
        c.post("/logout", data={"csrf_token": token(back.text)})
        replay = TestClient(create_app(store, secret_key="k", clock=clock))
        replay.cookies.set("llmkit_annotate", saved)
        assert replay.get("/queue", follow_redirects=False).status_code == 303
        for _ in range(10):
            assert login(c, "grace", "wrong password").status_code == 401
        assert login(c, "grace").status_code == 429
        set_active(store, "ada", False)
        assert login(c, "ada").status_code == 401
    finally:
        store.close()
