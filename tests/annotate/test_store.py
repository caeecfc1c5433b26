"""The store: migrations, users, ratings as single transactions, concurrent and killed writers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from llmkit.annotate import AnnotationError, Conversation, Rubric, Store
from llmkit.annotate._schema import MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys
    from llmkit.annotate import Store
    url, rater, rubric_id, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with Store(url) as store:
        for i in range(count):
            sid = store.rate(
                rater, f"item-{i % 20}", {"overall_quality": 1 + i % 5, "hallucination": "no"},
                rubric_id=rubric_id, require_assignment=False,
            )
            print(sid, flush=True)  # printed only after the commit returned
    """
)


def _seed(store: Store, rubric: Rubric, raters: int) -> int:
    version = store.register_rubric(rubric)
    store.add_conversations(
        [Conversation(f"item-{i}", ({"role": "user", "content": f"q{i}"},)) for i in range(20)],
        source="test",
    )
    for r in range(raters):
        store.add_user(f"rater{r}", "rater", "password-123")
    return version.id


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_migrations_apply_once_and_reopen_cleanly(store_url: str) -> None:
    with Store(store_url) as first:
        assert first.schema_version == len(MIGRATIONS)
    with Store(store_url) as again:  # a second open applies nothing and loses nothing
        assert again.schema_version == len(MIGRATIONS)
        with again.engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
        assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_users_hash_passwords_with_argon2(store: Store) -> None:
    created = store.add_user("ada", "rater", "correct horse")
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert store.verify_password("ada", "correct horse") == created
    assert store.verify_password("ada", "wrong horse") is None
    assert store.verify_password("nobody", "correct horse") is None
    with pytest.raises(AnnotationError, match="exists already"):
        store.add_user("ada", "admin", "another password")
    with pytest.raises(AnnotationError, match="role"):
        store.add_user("bob", "boss", "password-123")
    with pytest.raises(AnnotationError, match="8 characters"):
        store.add_user("bob", "rater", "short")


def test_a_rating_is_one_transaction(store: Store, rubric: Rubric) -> None:
    rubric_id = _seed(store, rubric, 1)
    with pytest.raises(AnnotationError, match="not one of"):
        store.rate(
            "rater0",
            "item-1",
            {"overall_quality": 4, "hallucination": "maybe"},
            rubric_id=rubric_id,
            require_assignment=False,
        )
    with pytest.raises(AnnotationError, match="no dimension"):
        store.rate("rater0", "item-1", {"tone": 4}, rubric_id=rubric_id, require_assignment=False)
    assert (store.count("submissions"), store.count("ratings")) == (0, 0)
    store.rate(
        "rater0", "item-1", {"overall_quality": "4"}, rubric_id=rubric_id, require_assignment=False
    )
    # Every dimension with a value or a default is stored; the optional comment is not.
    assert store.own_ratings("rater0", "item-1") == {
        "overall_quality": "4",
        "correctness": "4",
        "helpfulness": "3",
        "hallucination": "no",
        "rai_violation": "none",
        "coherence": "4",
        "style": "4",
    }
    with pytest.raises(AnnotationError, match="not in rater0's queue"):
        store.rate("rater0", "item-2", {"overall_quality": 4})


@pytest.mark.slow
@pytest.mark.timeout(300)  # ten interpreters start at once on a small machine
def test_ten_writers_at_once_lose_no_rating(store_url: str, rubric: Rubric) -> None:
    per_writer = 10
    with Store(store_url) as store:
        rubric_id = _seed(store, rubric, 10)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store_url, f"rater{r}", str(rubric_id), str(per_writer)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for r in range(10)
    ]
    committed: set[int] = set()
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        committed |= {int(line) for line in out.split()}
    assert len(committed) == 10 * per_writer
    with Store(store_url) as store:
        frame = store.ratings_frame(latest=False)
        assert set(frame["submission_id"]) == committed
        assert frame.groupby("submission_id").size().eq(len(rubric.dimensions) - 1).all()
        assert frame.groupby("rater")["submission_id"].nunique().eq(per_writer).all()


def test_kill_9_mid_run_loses_no_committed_rating(store_url: str, rubric: Rubric) -> None:
    with Store(store_url) as store:
        rubric_id = _seed(store, rubric, 1)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, store_url, "rater0", str(rubric_id), "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert proc.stdout is not None
    committed: list[int] = []
    try:
        while len(committed) < 40:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "writer ended early"
            committed.append(int(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
    committed += [int(x) for x in rest.split()]  # lines the writer printed before dying
    assert proc.returncode == -signal.SIGKILL
    with Store(store_url) as store:
        frame = store.ratings_frame(latest=False)
        stored = set(frame["submission_id"])
        assert set(committed) <= stored
        # No half-written submission: every stored one has all its ratings.
        assert frame.groupby("submission_id").size().eq(len(rubric.dimensions) - 1).all()
        assert store.count("submissions") == len(stored)


def test_bad_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError, match=r"unsupported store .*sqlite.*postgresql"):
        Store("bogus://somewhere/db")
    # An unreachable server names the URL without its password.
    with pytest.raises(AnnotationError) as info:
        Store("postgresql+psycopg://u:secret@127.0.0.1:1/db?connect_timeout=2")
    assert "secret" not in str(info.value) and "***" in str(info.value)


def test_ratings_frame_columns(store: Store, rubric: Rubric) -> None:
    from llmkit.annotate import ratings

    rubric_id = _seed(store, rubric, 1)
    store.rate(
        "rater0",
        "item-3",
        {"overall_quality": 2, "hallucination": "yes"},
        rubric_id=rubric_id,
        require_assignment=False,
        seconds=30.0,
    )
    frame = ratings(store)
    assert list(frame.columns[:6]) == [
        "item_id",
        "rater",
        "dimension",
        "value",
        "rubric_version",
        "rated_at",
    ]
    row: dict[str, Any] = frame[frame["dimension"] == "hallucination"].iloc[0].to_dict()
    assert (row["item_id"], row["rater"], row["value"], row["score"]) == (
        "item-3",
        "rater0",
        "yes",
        1.0,
    )
    assert str(frame["rated_at"].dt.tz) == "UTC"


def test_an_old_store_migrates_forward_keeping_its_data(store_url: str) -> None:
    from llmkit.annotate import _schema

    # A store as the first release left it: only migration 1, one item.
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        _schema.schema_version.create(conn)
        MIGRATIONS[0](conn)
        conn.execute(_schema.schema_version.insert().values(version=1, applied_at=0.0))
        conn.execute(
            sa.text(
                "INSERT INTO items (id, messages_json, metadata_json, source, imported_at)"
                " VALUES ('old', '[{\"role\": \"user\", \"content\": \"hi\"}]', '{}', 'v1', 0)"
            )
        )
    engine.dispose()
    with Store(store_url) as store:
        assert store.schema_version == len(MIGRATIONS) > 1
        old = store.conversation("old")
        assert old.messages == ({"role": "user", "content": "hi"},) and old.alternatives == {}
