"""The runtime: settings plus the real implementations behind each seam."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reelstack.config import Settings
from reelstack.db import make_engine, make_sessionmaker
from reelstack.storage import Storage, storage_from_url
from reelstack.workdir import Workdir


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    storage: Storage
    # This process's local scratch space (FFmpeg input and output); not part of storage.
    workdir: Workdir

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        storage=storage_from_url(
            settings.storage_url, data_dir=settings.data_dir, settings=settings
        ),
        workdir=Workdir(settings.resolved_work_dir),
    )
