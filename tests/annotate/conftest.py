"""Fixtures: an annotation store on each back end.

``store_url``  parametrised: a SQLite file, and a fresh schema on the PostgreSQL server in
               ``LLMKIT_TEST_POSTGRES_URL`` (``.ci/run`` starts one). Without that URL the
               PostgreSQL case skips, with one line, unless ``CI`` is set: then it fails.
``store``      a :class:`~llmkit.annotate.Store` on ``store_url``, closed afterwards.
``rubric``     the shipped default rubric.
``conversation``  builds one import line's object: ``conversation("c1", model="m")``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmkit.annotate import Rubric, Store, default_rubric

POSTGRES_ENV = "LLMKIT_TEST_POSTGRES_URL"


def postgres_url_or_skip() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{POSTGRES_ENV} is not set under CI (.ci/run starts PostgreSQL)")
    pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (set by .ci/run)")


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    base = postgres_url_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'annotate.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as s:
        yield s


@pytest.fixture
def rubric() -> Rubric:
    return default_rubric()


def _conversation(item_id: str, **metadata: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "messages": [
            {"role": "user", "content": f"question {item_id}"},
            {"role": "assistant", "content": f"answer {item_id}"},
        ],
        "metadata": metadata,
    }


@pytest.fixture
def conversation() -> Any:
    """``conversation(id, **metadata)``: one import line's object."""
    return _conversation
