"""SQLite housekeeping: WAL checkpoints happen in a background thread, not in the commit
that crosses a threshold, and the thread stops with the engine."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Engine, text

from reelstack.db import WalCheckpointer, make_engine


def _checkpointers(engine: Engine) -> list[WalCheckpointer]:
    """This engine's live checkpoint threads (other tests' engines may have theirs)."""
    return [
        t
        for t in threading.enumerate()
        if isinstance(t, WalCheckpointer) and t.engine is engine and t.is_alive()
    ]


def test_wal_is_checkpointed_in_the_background_and_the_thread_stops(tmp_path: Path) -> None:
    db_file = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        with engine.begin() as conn:
            # No commit ever checkpoints by itself...
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            conn.execute(text("CREATE TABLE t (v TEXT)"))
            for i in range(500):
                conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": "x" * 200 + str(i)})
        threads = _checkpointers(engine)
        assert len(threads) == 1
        # ...so the rows sit in the WAL until the thread copies them into the file.
        deadline = time.monotonic() + 5
        while db_file.stat().st_size < 100_000 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert db_file.stat().st_size >= 100_000, "the WAL was never checkpointed"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 500
    finally:
        engine.dispose()
    threads[0].join(3)
    assert not threads[0].is_alive()
