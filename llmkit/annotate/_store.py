"""The annotation store: users, rubric versions, conversations, queues and ratings.

SQLAlchemy Core over SQLite (the default, a file under ``$LLMKIT_HOME``) or PostgreSQL
(``postgresql+psycopg://…``). Every write is one transaction; SQLite runs in WAL mode with
``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing, and ``synchronous=FULL``
so a committed rating survives a killed process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from llmkit._home import llmkit_home
from llmkit._migrate import apply_migrations
from llmkit._redact import Redactor, redact_url
from llmkit.annotate import _schema as t
from llmkit.annotate._errors import AnnotationError
from llmkit.annotate._names import check_name, default_hasher, find_user_row, name_key
from llmkit.annotate._queue import queue_rows
from llmkit.annotate._ratings_frame import ratings_frame, records
from llmkit.annotate._records import ROLES, Conversation, QueueEntry, RubricVersion, User
from llmkit.annotate._rubric import Rubric, parse_rubric
from llmkit.annotate._schema import MIGRATIONS

if TYPE_CHECKING:
    import pandas as pd
    from argon2 import PasswordHasher

__all__ = [
    "ROLES",
    "AnnotationError",
    "Conversation",
    "QueueEntry",
    "RubricVersion",
    "Store",
    "User",
    "default_db_url",
    "left_side",
    "open_store",
    "queue_rows",
    "ratings",
    "records",
    "resolve_db_url",
]


def default_db_url() -> str:
    """``sqlite:///$LLMKIT_HOME/annotate.db``."""
    return f"sqlite:///{llmkit_home() / 'annotate.db'}"


def _record_version(conn: sa.Connection, number: int) -> None:
    conn.execute(t.schema_version.insert().values(version=number, applied_at=time.time()))


def resolve_db_url(db: str | Path | None) -> str:
    """A SQLAlchemy URL from ``--db``: a URL as given, a plain path as a SQLite file."""
    if db is None or str(db) == "":
        return default_db_url()
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


_WRITE = "llmkit_write"


def _sqlite_setup(engine: sa.Engine) -> None:
    """WAL, a long busy timeout, and explicit ``BEGIN IMMEDIATE`` transactions."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below own transactions
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # Writers take the lock up front: a deferred transaction that later writes can fail
        # with "database is locked" at once instead of waiting its turn. Readers never wait.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Store:
    """The annotation database.

    Args:
        db: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``), a file path
            (SQLite), or ``None`` for ``$LLMKIT_HOME/annotate.db``.

    Raises:
        AnnotationError: the database cannot be opened or migrated.
    """

    def __init__(
        self, db: str | Path | None = None, *, password_hasher: PasswordHasher | None = None
    ) -> None:
        self.url = resolve_db_url(db)
        # argon2's strong defaults; tests pass a cheap hasher (a default hash takes ~0.5 s)
        self.password_hasher = password_hasher or default_hasher()
        self._rubric_cache: dict[int, RubricVersion] = {}
        try:
            url = sa.make_url(self.url)
        except sa.exc.ArgumentError:
            raise AnnotationError(f"not a database URL: {redact_url(self.url)}") from None
        self.dialect = url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise AnnotationError(
                f"unsupported store {redact_url(self.url)} (database URL): use a SQLite file, "
                "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
            )
        if self.dialect == "sqlite":
            database = url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs: dict[str, Any] = {}
            if not database or database == ":memory:":
                kwargs["poolclass"] = sa.pool.StaticPool
            self.engine = sa.create_engine(url, **kwargs)
            _sqlite_setup(self.engine)
        else:
            try:
                # No pre-ping (a round trip per checkout): a dropped connection fails one
                # call and SQLAlchemy then discards the pool; recycle idle ones hourly.
                # Reads run in autocommit: a read in a transaction costs a BEGIN and a
                # ROLLBACK round trip besides its query (3 instead of 1); writes go through
                # transaction(), which opens a real transaction.
                self.engine = sa.create_engine(url, pool_recycle=3600, isolation_level="AUTOCOMMIT")
            except ModuleNotFoundError as exc:
                raise AnnotationError(
                    f"the {self.dialect} driver is missing ({exc.name}): "
                    "pip install 'llmkit[postgres]'"
                ) from None
            except sa.exc.ArgumentError as exc:
                raise AnnotationError(
                    Redactor(urls=(self.url,))(f"unsupported database URL {self.url}: {exc}")
                ) from None
        try:
            self._migrate()
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            cause = getattr(exc, "orig", None) or exc
            first = (str(cause).splitlines() or [""])[0]
            # A driver's message may quote the URL or its password.
            raise AnnotationError(
                Redactor(urls=(self.url,))(
                    f"cannot open {self.url}: {type(cause).__name__}: {first}"
                )
            ) from None

    # -- plumbing -------------------------------------------------------------------------

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({redact_url(self.url)!r})"

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            if self.dialect != "sqlite":  # reads autocommit (see __init__); writes may not
                conn.execution_options(isolation_level="READ COMMITTED")
            with conn.begin():
                yield conn

    def _migrate(self) -> None:
        with self.transaction() as conn:
            if self.dialect == "postgresql":
                # Two processes opening a fresh database must not both create the tables.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7164317)"))
            t.schema_version.create(conn, checkfirst=True)
            done = conn.execute(sa.select(sa.func.max(t.schema_version.c.version))).scalar()
            apply_migrations(conn, MIGRATIONS, done or 0, _record_version)

    @property
    def schema_version(self) -> int:
        """The newest migration applied to this database."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.max(t.schema_version.c.version))).scalar() or 0
            )

    # -- users ----------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str) -> User:
        """Create a user with an argon2-hashed password.

        Raises:
            AnnotationError: bad name or role, short password, or the name is taken (names
                compare NFKC-normalised and case-insensitively).
        """
        name = check_name(name)
        if role not in ROLES:
            raise AnnotationError(f"role {role!r}: choose from {', '.join(ROLES)}")
        if len(password) < 8:
            raise AnnotationError("the password needs at least 8 characters")
        digest = self.password_hasher.hash(password)
        try:
            with self.transaction() as conn:
                taken = find_user_row(conn, name)
                if taken is not None:
                    raise AnnotationError(f"user {name!r} exists already (as {taken.name!r})")
                new_id = conn.execute(
                    t.users.insert().values(
                        name=name,
                        name_key=name_key(name),
                        role=role,
                        password_hash=digest,
                        active=True,
                        created_at=time.time(),
                    )
                ).inserted_primary_key
        except sa.exc.IntegrityError:
            raise AnnotationError(f"user {name!r} exists already") from None
        assert new_id is not None
        return User(id=int(new_id[0]), name=name, role=role)

    def verify_password(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs (and they are active), else ``None``."""
        from argon2.exceptions import InvalidHashError, VerificationError

        with self.engine.connect() as conn:
            row = find_user_row(conn, name)
        if row is None or not row.active:
            self.password_hasher.hash(password)  # same cost either way: no enumeration by time
            return None
        try:
            self.password_hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(id=row.id, name=row.name, role=row.role, active=row.active)

    def user(self, name: str, *, conn: sa.Connection | None = None) -> User:
        """The user called ``name`` (compared NFKC-normalised and case-insensitively).

        Raises:
            AnnotationError: no such user.
        """
        if conn is None:
            with self.engine.connect() as own:
                return self.user(name, conn=own)
        row = find_user_row(conn, name)
        if row is None:
            raise AnnotationError(f"no user {name!r} (add one: llmkit annotate user add)")
        return User(id=row.id, name=row.name, role=row.role, active=row.active)

    def users(self, role: str | None = None) -> list[User]:
        """Every user (of ``role``), by name."""
        query = sa.select(t.users).order_by(t.users.c.name)
        if role is not None:
            query = query.where(t.users.c.role == role)
        with self.engine.connect() as conn:
            return [
                User(id=r.id, name=r.name, role=r.role, active=r.active)
                for r in conn.execute(query)
            ]

    # -- rubrics --------------------------------------------------------------------------

    def register_rubric(self, rubric: Rubric) -> RubricVersion:
        """The stored version of ``rubric``: the existing one with the same content, or new.

        The version number is one more than the highest stored for the rubric's name.
        """
        for _ in range(5):  # two writers adding the same new version: one wins, one rereads
            with self.engine.connect() as conn:
                row = conn.execute(
                    sa.select(t.rubrics).where(
                        t.rubrics.c.name == rubric.name,
                        t.rubrics.c.content_hash == rubric.content_hash,
                    )
                ).first()
            if row is not None:
                return RubricVersion(row.id, row.name, row.version, row.content_hash, rubric)
            try:
                with self.transaction() as conn:
                    top = conn.execute(
                        sa.select(sa.func.max(t.rubrics.c.version)).where(
                            t.rubrics.c.name == rubric.name
                        )
                    ).scalar()
                    version = int(top or 0) + 1
                    key = conn.execute(
                        t.rubrics.insert().values(
                            name=rubric.name,
                            version=version,
                            content_hash=rubric.content_hash,
                            content_json=json.dumps(rubric.content, sort_keys=True),
                            created_at=time.time(),
                        )
                    ).inserted_primary_key
                assert key is not None
                return RubricVersion(int(key[0]), rubric.name, version, rubric.content_hash, rubric)
            except sa.exc.IntegrityError:
                continue
        raise AnnotationError(f"could not register rubric {rubric.name!r}")  # pragma: no cover

    def rubric_version(self, rubric_id: int) -> RubricVersion:
        """The stored rubric version with this id.

        Raises:
            AnnotationError: no such version.
        """
        cached = self._rubric_cache.get(rubric_id)
        if cached is not None:  # versions never change once stored
            return cached
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.rubrics).where(t.rubrics.c.id == rubric_id)).first()
        if row is None:
            raise AnnotationError(f"no rubric version with id {rubric_id}")
        self._rubric_cache[rubric_id] = version = self._rubric_row(row)
        return version

    def rubric_versions(self, name: str | None = None) -> list[RubricVersion]:
        """Every stored rubric version (of ``name``), oldest first."""
        query = sa.select(t.rubrics).order_by(t.rubrics.c.name, t.rubrics.c.version)
        if name is not None:
            query = query.where(t.rubrics.c.name == name)
        with self.engine.connect() as conn:
            return [self._rubric_row(r) for r in conn.execute(query)]

    @staticmethod
    def _rubric_row(row: Any) -> RubricVersion:
        import yaml

        rubric = parse_rubric(yaml.safe_dump(json.loads(row.content_json)), path=f"stored:{row.id}")
        return RubricVersion(row.id, row.name, row.version, row.content_hash, rubric)

    # -- conversations --------------------------------------------------------------------

    def add_conversations(self, conversations: Sequence[Conversation], *, source: str) -> int:
        """Insert conversations (and their gold answers) in one transaction: all or none.

        Raises:
            AnnotationError: an id is already stored (nothing is inserted).
        """
        if not conversations:
            return 0
        now = time.time()
        ids = [c.id for c in conversations]
        with self.transaction() as conn:
            taken: list[str] = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                taken += (
                    conn.execute(sa.select(t.items.c.id).where(t.items.c.id.in_(chunk)))
                    .scalars()
                    .all()
                )
            if taken:
                raise AnnotationError(
                    f"{len(taken)} id(s) already imported, e.g. {sorted(taken)[0]!r}; "
                    "nothing was imported"
                )
            conn.execute(
                t.items.insert(),
                [
                    {
                        "id": c.id,
                        "messages_json": json.dumps(list(c.messages), ensure_ascii=False),
                        "alternatives_json": (
                            json.dumps(c.alternatives, ensure_ascii=False)
                            if c.alternatives
                            else None
                        ),
                        "metadata_json": json.dumps(c.metadata, ensure_ascii=False, default=str),
                        "source": source[:200],
                        "imported_at": now,
                    }
                    for c in conversations
                ],
            )
            gold = [
                {"item_id": c.id, "dimension": dim, "value": str(value)}
                for c in conversations
                for dim, value in c.gold.items()
            ]
            if gold:
                conn.execute(t.gold_labels.insert(), gold)
        return len(conversations)

    def conversation(self, item_id: str) -> Conversation:
        """One stored conversation, with its gold answers (admin use: raters use the queue).

        Raises:
            AnnotationError: no such item.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.items).where(t.items.c.id == item_id)).first()
            gold = conn.execute(
                sa.select(t.gold_labels).where(t.gold_labels.c.item_id == item_id)
            ).all()
        if row is None:
            raise AnnotationError(f"no conversation {item_id!r}")
        return Conversation(
            id=row.id,
            messages=tuple(json.loads(row.messages_json)),
            metadata=json.loads(row.metadata_json),
            gold={g.dimension: g.value for g in gold},
            alternatives=json.loads(row.alternatives_json or "{}"),
        )

    def conversations(self) -> Iterator[Conversation]:
        """Every stored conversation, by id (without gold answers)."""
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(t.items).order_by(t.items.c.id)):
                yield Conversation(
                    id=row.id,
                    messages=tuple(json.loads(row.messages_json)),
                    metadata=json.loads(row.metadata_json),
                )

    def item_ids(self) -> set[str]:
        """The ids of every stored conversation."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(t.items.c.id)).scalars())

    def count(self, what: str = "items") -> int:
        """Rows in one table (``items``, ``users``, ``ratings``, ``submissions``...)."""
        table = t.metadata.tables[what]
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)

    def gold(self) -> dict[str, dict[str, str]]:
        """Gold answers: item id -> dimension -> value."""
        out: dict[str, dict[str, str]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(t.gold_labels)):
                out.setdefault(row.item_id, {})[row.dimension] = row.value
        return out

    # -- queues and ratings ---------------------------------------------------------------

    def queue(self, rater: str, *, day: str | None = None) -> list[QueueEntry]:
        """A rater's queue, in order: the latest sampled day's items after earlier days'
        unfinished ones (or only ``day``'s).

        Only what the rater may see: the conversation and the rater's own status, never
        the gold flag nor other raters' ratings.
        """
        rows = queue_rows(self, rater, day, with_conversation=True)
        return [
            QueueEntry(
                assignment_id=r.id,
                item_id=r.item_id,
                position=r.position,
                day=r.day,
                rubric_id=r.rubric_id,
                status=r.status or "pending",
                messages=tuple(json.loads(r.messages_json)),
                alternatives=json.loads(r.alternatives_json or "{}"),
                left=left_side(r.id) if r.alternatives_json else None,
            )
            for r in rows
        ]

    def _assignment_for(
        self, conn: sa.Connection, user: User, item_id: str, assignment_id: int | None
    ) -> Any:
        a = t.assignments
        # the item's pairwise answers come along: one round trip instead of two
        query = (
            sa.select(a, t.items.c.alternatives_json)
            .join(t.items, t.items.c.id == a.c.item_id)
            .where(a.c.rater_id == user.id)
        )
        if assignment_id is not None:
            row = conn.execute(query.where(a.c.id == assignment_id)).first()
            if row is None or row.item_id != item_id:
                # Same message whether the assignment is someone else's or absent.
                raise AnnotationError(
                    f"assignment {assignment_id} is not in {user.name}'s queue for item {item_id!r}"
                )
            return row
        return conn.execute(query.where(a.c.item_id == item_id).order_by(a.c.id.desc())).first()

    def rate(
        self,
        rater: str,
        item_id: str,
        values: Mapping[str, Any],
        *,
        assignment_id: int | None = None,
        rubric_id: int | None = None,
        seconds: float | None = None,
        extra: Mapping[str, Any] | None = None,
        require_assignment: bool = True,
        rated_at: float | None = None,
    ) -> int:
        """Store one rating of one conversation (all its dimensions) in one transaction.

        Dimensions left out take the rubric's default; a required dimension without a
        default must be given. Rating again makes a new submission: the latest counts.

        Args:
            rater: the rater's user name.
            item_id: the conversation.
            values: dimension key -> value (``"4"``, ``4``, ``"yes"``, ``"A"``...).
            assignment_id: the queue entry; checked to belong to ``rater``.
            rubric_id: the rubric version (default: the assignment's).
            seconds: time the rater spent on the item.
            extra: anything the caller wants kept (e.g. the pairwise side shown on the left).
            require_assignment: refuse items not in the rater's queue.
            rated_at: epoch seconds (default now; simulations backdate).

        Returns:
            the submission id.

        Raises:
            AnnotationError: not the rater's item, unknown dimension, value off the scale.
        """
        # Reads first (assignments and rubric versions never change), then one short write.
        with self.engine.connect() as conn:
            user = self.user(rater, conn=conn)
            assignment = self._assignment_for(conn, user, item_id, assignment_id)
            item = (
                assignment
                or conn.execute(
                    sa.select(t.items.c.id, t.items.c.alternatives_json).where(
                        t.items.c.id == item_id
                    )
                ).first()
            )
        if item is None:
            raise AnnotationError(f"no conversation {item_id!r}")
        if assignment is None and require_assignment:
            raise AnnotationError(f"item {item_id!r} is not in {rater}'s queue")
        if rubric_id is None:
            if assignment is None:
                raise AnnotationError("give rubric_id when rating outside a queue")
            rubric_id = int(assignment.rubric_id)
        clean = _check_values(self.rubric_version(rubric_id).rubric, values)
        kept = dict(extra or {})
        if assignment is not None and "left" not in kept and item.alternatives_json:
            kept["left"] = left_side(int(assignment.id))  # the answer shown on the left
        with self.transaction() as conn:
            key = conn.execute(
                t.submissions.insert().values(
                    item_id=item_id,
                    rater_id=user.id,
                    rubric_id=rubric_id,
                    assignment_id=None if assignment is None else assignment.id,
                    status="rated",
                    seconds=seconds,
                    extra_json=json.dumps(kept, default=str) if kept else None,
                    rated_at=time.time() if rated_at is None else rated_at,
                )
            ).inserted_primary_key
            assert key is not None
            submission_id = int(key[0])
            conn.execute(
                t.ratings.insert(),
                [
                    {"submission_id": submission_id, "dimension": k, "value": v}
                    for k, v in clean.items()
                ],
            )
        return submission_id

    def skip(self, rater: str, assignment_id: int, reason: str) -> int:
        """Skip a queue entry with a reason (a submission with no ratings).

        Raises:
            AnnotationError: not the rater's assignment, or no reason.
        """
        if not reason.strip():
            raise AnnotationError("a skip needs a reason")
        user = self.user(rater)
        with self.transaction() as conn:
            row = conn.execute(
                sa.select(t.assignments).where(
                    t.assignments.c.id == assignment_id, t.assignments.c.rater_id == user.id
                )
            ).first()
            if row is None:
                raise AnnotationError(f"assignment {assignment_id} is not in {rater}'s queue")
            key = conn.execute(
                t.submissions.insert().values(
                    item_id=row.item_id,
                    rater_id=user.id,
                    rubric_id=row.rubric_id,
                    assignment_id=row.id,
                    status="skipped",
                    skip_reason=reason.strip()[:2000],
                    rated_at=time.time(),
                )
            ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def own_ratings(self, rater: str, item_id: str) -> dict[str, str]:
        """The rater's latest values for one item (to edit a past rating); empty if none."""
        user = self.user(rater)
        sub = t.submissions
        with self.engine.connect() as conn:
            sid = conn.execute(
                sa.select(sa.func.max(sub.c.id)).where(
                    sub.c.rater_id == user.id, sub.c.item_id == item_id, sub.c.status == "rated"
                )
            ).scalar()
            if sid is None:
                return {}
            rows = conn.execute(
                sa.select(t.ratings.c.dimension, t.ratings.c.value).where(
                    t.ratings.c.submission_id == sid
                )
            ).all()
        return {r.dimension: r.value for r in rows}

    def ratings_frame(
        self, *, include_gold: bool = True, latest: bool = True, include_untouched: bool = False
    ) -> pd.DataFrame:
        """Every rating as a DataFrame, one row per (submission, dimension): see
        :func:`llmkit.annotate._ratings_frame.ratings_frame` for the columns."""
        return ratings_frame(
            self.engine,
            include_gold=include_gold,
            latest=latest,
            include_untouched=include_untouched,
        )


def left_side(assignment_id: int) -> str:
    """``A`` or ``B``: the side shown on the left, random per assignment but stable."""
    import hashlib

    digest = hashlib.sha256(f"llmkit-pairwise-{assignment_id}".encode()).digest()
    return "A" if digest[0] % 2 == 0 else "B"


def _check_values(rubric: Rubric, values: Mapping[str, Any]) -> dict[str, str]:
    unknown = sorted(set(values) - set(rubric.keys))
    if unknown:
        raise AnnotationError(f"rubric {rubric.name!r} has no dimension {', '.join(unknown)}")
    clean: dict[str, str] = {}
    for dim in rubric.dimensions:
        value = values.get(dim.key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if dim.default is not None:
                clean[dim.key] = dim.default
            elif dim.required and dim.scale.type != "comment":
                raise AnnotationError(f"dimension {dim.key!r} needs a value")
            continue
        try:
            clean[dim.key] = dim.scale.normalise(value)
        except ValueError as exc:
            raise AnnotationError(f"dimension {dim.key!r}: {exc}") from None
        if dim.scale.type == "comment" and len(clean[dim.key]) > 10_000:
            raise AnnotationError(f"dimension {dim.key!r}: comment over 10,000 characters")
    return clean


def open_store(db: str | Path | Store | None = None) -> Store:
    """A :class:`Store` for ``db`` (a Store is passed through)."""
    return db if isinstance(db, Store) else Store(db)


def ratings(
    db: str | Path | Store | None = None,
    *,
    include_gold: bool = True,
    latest: bool = True,
    include_untouched: bool = False,
) -> pd.DataFrame:
    """Every stored rating as a DataFrame (see :meth:`Store.ratings_frame` for the columns).

    Columns start ``item_id, rater, dimension, value, rubric_version, rated_at``.

    Args:
        db: a URL, SQLite path or :class:`Store` (default: ``$LLMKIT_HOME/annotate.db``).
        include_gold: keep ratings of gold items (flagged in ``is_gold``).
        latest: only each rater's newest submission per item.
        include_untouched: keep the rubric defaults stored for dimensions the rater never
            chose (``touched`` false).
    """
    store = open_store(db)
    try:
        return store.ratings_frame(
            include_gold=include_gold, latest=latest, include_untouched=include_untouched
        )
    finally:
        if store is not db:
            store.close()
