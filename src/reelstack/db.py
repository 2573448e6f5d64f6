"""Engine, sessions, declarative base and the migration entry point."""

from __future__ import annotations

import enum
import fcntl
import os
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import JSON, Connection, DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


class PydanticJSON(TypeDecorator[Any]):
    """A JSON column read back as a typed Pydantic value (model, list of models, union).

    Values are validated on the way in and out, so a row never holds a shape its type
    does not describe.
    """

    impl = JSON
    cache_ok = True

    def __init__(self, adapter: TypeAdapter[Any]) -> None:
        super().__init__()
        self.adapter = adapter

    def process_bind_param(self, value: Any, dialect: Any) -> Any:  # noqa: ARG002
        if value is None:
            return None
        return self.adapter.dump_python(self.adapter.validate_python(value), mode="json")

    def process_result_value(self, value: Any, dialect: Any) -> Any:  # noqa: ARG002
        if value is None:
            return None
        return self.adapter.validate_python(value)


def enum_type(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """A database enum storing the members' values (``"queued"``), not their names."""
    return Enum(enum_cls, name=name, values_callable=lambda e: [str(m.value) for m in e])


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so worker threads can write."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Checkpoints run in a background thread (WalCheckpointer), not in the commit
            # that happens to cross the threshold: that commit's fsync stalled requests.
            cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        checkpointer = WalCheckpointer(engine)
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
        checkpointer.start()
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class WalCheckpointer(threading.Thread):
    """Copies a SQLite WAL back into the database file every ``interval_s``, off the
    request path (``PRAGMA wal_checkpoint(PASSIVE)``: it never waits on readers or the
    writer). Stops when the engine is disposed or garbage-collected, or on any error
    (the database file gone): checkpoints are housekeeping, never worth a crash."""

    def __init__(self, engine: Engine, interval_s: float = 0.5) -> None:
        super().__init__(name="sqlite-wal-checkpoint", daemon=True)
        self._engine = weakref.ref(engine)
        self._interval_s = interval_s
        self._stop_event = threading.Event()

    @property
    def engine(self) -> Engine | None:
        return self._engine()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.wait(self._interval_s):
            engine = self._engine()
            if engine is None:
                return
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:
                return
            finally:
                del engine


@dataclass
class _WriterLock:
    """One engine's writer lock: a thread lock, and for a database file also an
    ``flock`` on a file beside it, which queues the writers of other processes
    (``REELSTACK_API_WORKERS`` > 1) the same way."""

    thread_lock: threading.Lock
    lock_file: int | None


_SQLITE_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, _WriterLock] = weakref.WeakKeyDictionary()
_SQLITE_WRITE_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> _WriterLock:
    with _SQLITE_WRITE_LOCKS_GUARD:
        found = _SQLITE_WRITE_LOCKS.get(engine)
        if found is None:
            database = engine.url.database
            lock_file = None
            if database and database != ":memory:" and not database.startswith("file:"):
                lock_file = os.open(f"{database}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
                weakref.finalize(engine, os.close, lock_file)
            found = _WriterLock(threading.Lock(), lock_file)
            _SQLITE_WRITE_LOCKS[engine] = found
        return found


@contextmanager
def serialized_writes(session: Session) -> Iterator[None]:
    """Run a short write transaction under this process's writer lock on SQLite.

    SQLite has one writer at a time; a thread or process that meets the lock sleeps in
    SQLite's busy handler in growing steps (1, 2, 5, 10... ms) and tails grow to hundreds
    of ms under load. Queuing writers on a lock first (a thread lock, then an ``flock``
    shared with the other API processes) wakes each one as soon as the previous commits.
    Other databases lock rows themselves: this is a no-op there.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    lock = _writer_lock(bind.engine if isinstance(bind, Connection) else bind)
    with lock.thread_lock:
        if lock.lock_file is None:
            yield
            return
        fcntl.flock(lock.lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.lock_file, fcntl.LOCK_UN)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def migrate(url: str) -> None:
    """Bring the schema at ``url`` to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")
