"""Request hygiene: no body read before the session is checked, body limits, CSV cells a
spreadsheet will not run, and item ids that cannot redirect a link."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from annotate_web.support import LiveServer, Seeded, login, token
from llmkit.annotate import export_ratings, import_jsonl
from llmkit.annotate._csv_safe import csv_cell
from llmkit.annotate._web import create_app


def client(seeded: Seeded, **kwargs: Any) -> TestClient:
    return TestClient(create_app(seeded.store, secret_key="test-secret", **kwargs))


def raw_post(server: LiveServer, path: str, headers: dict[str, str]) -> str:
    """Send only the request head (announcing a huge body) and read the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        return sock.recv(65536).decode("latin-1")


def test_an_anonymous_huge_upload_is_refused_before_its_body_is_read(live: LiveServer) -> None:
    answer = raw_post(
        live,
        "/admin/import",
        {
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(1000 * 1024 * 1024),
        },
    )
    assert answer.startswith("HTTP/1.1 403"), answer[:200]  # answered with no body sent


def test_bodies_over_the_limits_get_413(seeded: Seeded) -> None:
    c = client(seeded, form_limit=10_000, import_limit=20_000)
    csrf = token(login(c, "ada").text)
    aid = seeded.store.queue("ada")[0].assignment_id
    big = {"csrf_token": csrf, "dim.comment": "x" * 20_000}
    assert c.post(f"/rate/{aid}", data=big).status_code == 413

    def chunks() -> Any:  # no Content-Length: the limit holds while streaming
        yield f"csrf_token={csrf}&dim.comment=".encode()
        for _ in range(20):
            yield b"y" * 1000

    streamed = c.post(
        f"/rate/{aid}",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    assert seeded.store.count("submissions") == 0
    root = client(seeded, form_limit=10_000, import_limit=20_000)
    csrf = token(login(root, "root").text)
    line = json.dumps({"id": "big", "messages": [{"role": "user", "content": "z" * 15_000}]})
    fits = root.post(
        "/admin/import",
        data={"csrf_token": csrf},
        files={"file": ("a.jsonl", line.encode())},
    )
    assert "Imported 1 conversations" in fits.text  # an import may exceed the form limit
    over = root.post(
        "/admin/import",
        data={"csrf_token": csrf},
        files={"file": ("a.jsonl", (line + "\n" + line.replace("big", "big2")).encode())},
    )
    assert over.status_code == 413


def test_admin_form_errors_read_as_written(seeded: Seeded) -> None:
    root = client(seeded)
    csrf = token(login(root, "root").text)
    r = root.post("/admin/sample", data={"csrf_token": csrf, "n": "ten"})
    assert "Conversations: give a whole number, not &#39;ten&#39;" in r.text
    assert "invalid literal" not in r.text
    r = root.post("/admin/assign", data={"csrf_token": csrf, "raters": "ada", "overlap": "x"})
    assert "Overlap share: give a number" in r.text


def test_csv_exports_neutralise_formulas_and_jsonl_keeps_them(
    seeded: Seeded, tmp_path: Path
) -> None:
    c = client(seeded)
    csrf = token(login(c, "ada").text)
    aid = seeded.store.queue("ada")[0].assignment_id
    formula = '=HYPERLINK("http://evil.example","x")'
    r = c.post(
        f"/rate/{aid}",
        data={"csrf_token": csrf, "dim.comment": formula},
        follow_redirects=False,
    )
    assert r.status_code == 303
    root = client(seeded)
    login(root, "root")
    csv_text = root.get("/admin/files/ratings.csv").text
    assert "'=HYPERLINK" in csv_text and ',"=HYPERLINK' not in csv_text
    export_ratings(seeded.store, tmp_path / "r.csv")
    assert "'=HYPERLINK" in (tmp_path / "r.csv").read_text()
    export_ratings(seeded.store, tmp_path / "r.jsonl")
    values = [json.loads(line)["value"] for line in (tmp_path / "r.jsonl").open()]
    assert formula in values
    assert [csv_cell(v) for v in ("+1", "-x", "@a", "\tq", "ok", 3)] == [
        "'+1",
        "'-x",
        "'@a",
        "'\tq",
        "ok",
        3,
    ]


def test_item_ids_with_dot_segments_stay_one_path_segment(seeded: Seeded) -> None:
    from llmkit.annotate import assign, sample

    store = seeded.store
    item = "a/../../admin"
    convo = {"id": item, "messages": [{"role": "user", "content": "q"}]}
    import_jsonl(store, [json.dumps(convo)], name="ids.jsonl")
    sample(store, 13, day="2026-12-02")
    assign(store, ["ada", "grace"], overlap=1.0, raters_per_item=2)
    for rater, value in (("ada", "1"), ("grace", "5")):
        entry = next(e for e in store.queue(rater) if e.item_id == item)
        store.rate(rater, item, {"overall_quality": value}, assignment_id=entry.assignment_id)
    judy = client(seeded)
    login(judy, "judy")
    listing = judy.get("/adjudicate").text
    link = "/adjudicate/a%2F%2E%2E%2F%2E%2E%2Fadmin"
    assert f'href="{link}"' in listing
    page = judy.get(link)
    assert page.status_code == 200 and f'action="{link}"' in page.text
