"""Small helpers shared by the web app's tests."""

from __future__ import annotations

import re
from typing import Any

from tests.annotate_web.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "page carries no CSRF token"
    return found.group(1)


def login(client: Any, name: str, password: str = PASSWORD) -> Any:
    """Log in through the form; returns the page the login redirects to."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token(page.text)},
        follow_redirects=True,
    )
