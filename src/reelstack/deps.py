"""Annotated dependencies shared by every router.

The ones that only read ``app.state`` are ``async def``: FastAPI runs a plain ``def``
dependency in its thread pool, a thread hop per request that costs more than the lookup.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from reelstack.db import session_scope
from reelstack.jobs.executor import Executor
from reelstack.jobs.registry import JobRegistry
from reelstack.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_executor(request: Request) -> Executor:
    executor: Executor = request.app.state.executor
    return executor


async def get_job_registry(request: Request) -> JobRegistry:
    registry: JobRegistry = request.app.state.job_registry
    return registry


def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    """One unit of work per request, committed when the endpoint returns.

    Used with ``scope="function"`` (see ``DbSession``): the commit happens before the
    response is sent, so a client never sees a 2xx for rows that were not committed; a
    failed commit becomes a 500. Actions registered with ``reelstack.uow.on_commit`` run
    right after the commit; an error in the endpoint rolls back and drops them.
    """
    with session_scope(runtime.sessions) as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
JobRegistryDep = Annotated[JobRegistry, Depends(get_job_registry)]
DbSession = Annotated[Session, Depends(get_session, scope="function")]
