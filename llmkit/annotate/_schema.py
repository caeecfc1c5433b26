"""The annotation store's schema: SQLAlchemy Core tables and append-only migrations.

One schema serves SQLite and PostgreSQL. Migrations are a list of functions applied in
order; the number applied is kept in ``schema_version``. Never edit a migration that has
shipped: append a new one (and change the table objects below to match).

Rows are never updated in place where history matters: a rating edit is a new submission,
an adjudication is a new final label; readers take the latest.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

import sqlalchemy as sa

__all__ = [
    "MIGRATIONS",
    "assignments",
    "drafts",
    "final_labels",
    "gold_labels",
    "items",
    "login_failures",
    "metadata",
    "name_key",
    "ratings",
    "rubrics",
    "sample_items",
    "samples",
    "schema_version",
    "sessions",
    "submissions",
    "users",
]


def _tables_v1(md: sa.MetaData) -> None:
    """The tables as migration 1 created them (frozen: later migrations alter them)."""
    sa.Table(
        "schema_version",
        md,
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("applied_at", sa.Float, nullable=False),
    )
    sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    sa.Table(
        "rubrics",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("name", "version"),
        sa.UniqueConstraint("name", "content_hash"),
    )
    sa.Table(
        "items",
        md,
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("messages_json", sa.Text, nullable=False),
        sa.Column("metadata_json", sa.Text, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("imported_at", sa.Float, nullable=False),
    )
    sa.Table(
        "gold_labels",
        md,
        sa.Column("item_id", sa.String(200), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("dimension", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "samples",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.String(10), nullable=False, index=True),
        sa.Column("requested", sa.Integer, nullable=False),
        sa.Column("stratify_by", sa.String(200)),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    sa.Table(
        "sample_items",
        md,
        sa.Column("sample_id", sa.Integer, sa.ForeignKey("samples.id"), primary_key=True),
        sa.Column("item_id", sa.String(200), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("stratum", sa.Text),
    )
    sa.Table(
        "assignments",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sample_id", sa.Integer, sa.ForeignKey("samples.id"), nullable=False),
        sa.Column("item_id", sa.String(200), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("rubric_id", sa.Integer, sa.ForeignKey("rubrics.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("is_gold", sa.Boolean, nullable=False),
        sa.Column("is_overlap", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("sample_id", "item_id", "rater_id"),
        sa.Index("assignments_rater", "rater_id", "sample_id", "position"),
    )
    sa.Table(
        "submissions",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.String(200), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("rubric_id", sa.Integer, sa.ForeignKey("rubrics.id"), nullable=False),
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("assignments.id")),
        sa.Column("status", sa.String(10), nullable=False),  # rated | skipped
        sa.Column("skip_reason", sa.Text),
        sa.Column("seconds", sa.Float),
        sa.Column("extra_json", sa.Text),
        sa.Column("rated_at", sa.Float, nullable=False),
        sa.Index("submissions_item_rater", "item_id", "rater_id"),
        sa.Index("submissions_assignment", "assignment_id"),
    )
    sa.Table(
        "ratings",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Index("ratings_submission", "submission_id"),
    )
    sa.Table(
        "final_labels",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.String(200), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("rubric_id", sa.Integer, sa.ForeignKey("rubrics.id")),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("sources_json", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("decided_at", sa.Float, nullable=False),
        sa.Index("final_labels_item", "item_id", "dimension"),
    )


def _m001_initial(conn: sa.Connection) -> None:
    md = sa.MetaData()
    _tables_v1(md)
    md.create_all(conn)


def _m002_alternatives(conn: sa.Connection) -> None:
    """Pairwise items: the two answers to compare, ``{"A": ..., "B": ...}`` as JSON."""
    conn.execute(sa.text("ALTER TABLE items ADD COLUMN alternatives_json TEXT"))


def name_key(name: str) -> str:
    """How user names compare: NFKC, then case-folded (``ＡＤＡ`` and ``ada`` are one name)."""
    return unicodedata.normalize("NFKC", name).casefold()


def _tables_v3(md: sa.MetaData) -> None:
    """The tables migration 3 created (frozen)."""
    sa.Table(
        "sessions",
        md,
        sa.Column("id", sa.String(64), primary_key=True),  # sha256 of the cookie's token
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float),
        sa.Index("sessions_user", "user_id"),
    )
    sa.Table(
        "login_failures",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name_key", sa.String(400), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Index("login_failures_name", "name_key", "at"),
    )
    sa.Table(
        "drafts",
        md,
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("path", sa.String(200), primary_key=True),
        sa.Column("form_json", sa.Text, nullable=False),
        sa.Column("saved_at", sa.Float, nullable=False),
    )


def _m003_accounts(conn: sa.Connection) -> None:
    """Server-side sessions, login failures, drafts kept when a session ends mid-rating,
    and ``users.name_key`` (names compare NFKC + case-folded; old collisions are kept)."""
    md = sa.MetaData()
    _tables_v1(md)  # for the foreign keys to users
    _tables_v3(md)
    new = ("sessions", "login_failures", "drafts")
    md.create_all(conn, tables=[md.tables[name] for name in new])
    conn.execute(sa.text("ALTER TABLE users ADD COLUMN name_key VARCHAR(400)"))
    for user_id, name in conn.execute(sa.text("SELECT id, name FROM users")).all():
        conn.execute(
            sa.text("UPDATE users SET name_key = :key WHERE id = :id"),
            {"key": name_key(name), "id": user_id},
        )
    conn.execute(sa.text("CREATE INDEX users_by_name_key ON users (name_key)"))


def _m004_rater_submissions_index(conn: sa.Connection) -> None:
    """A rater's latest submission per assignment (every queue page asks) by index, not by
    scanning every rater's submissions."""
    conn.execute(
        sa.text(
            "CREATE INDEX submissions_rater_assignment ON submissions (rater_id, assignment_id, id)"
        )
    )


# Append-only: position + 1 is the schema version.
MIGRATIONS: Sequence[Callable[[sa.Connection], None]] = (
    _m001_initial,
    _m002_alternatives,
    _m003_accounts,
    _m004_rater_submissions_index,
)

# The current shape of every table, for queries: v1 plus what later migrations added.
metadata = sa.MetaData()
_tables_v1(metadata)
metadata.tables["items"].append_column(sa.Column("alternatives_json", sa.Text))
metadata.tables["users"].append_column(sa.Column("name_key", sa.String(400)))
_tables_v3(metadata)
schema_version = metadata.tables["schema_version"]
users = metadata.tables["users"]
rubrics = metadata.tables["rubrics"]
items = metadata.tables["items"]
gold_labels = metadata.tables["gold_labels"]
samples = metadata.tables["samples"]
sample_items = metadata.tables["sample_items"]
assignments = metadata.tables["assignments"]
submissions = metadata.tables["submissions"]
ratings = metadata.tables["ratings"]
final_labels = metadata.tables["final_labels"]
sessions = metadata.tables["sessions"]
login_failures = metadata.tables["login_failures"]
drafts = metadata.tables["drafts"]
sa.Index(
    "submissions_rater_assignment",
    submissions.c.rater_id,
    submissions.c.assignment_id,
    submissions.c.id,
)
