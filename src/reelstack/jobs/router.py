from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query

from reelstack.deps import DbSession, ExecutorDep, JobRegistryDep
from reelstack.jobs import service
from reelstack.jobs.schemas import JobKind, JobOut, JobState
from reelstack.problems import responses
from reelstack.uow import on_commit

# Mounted under the admin parent router (reelstack.api): /v1/admin/jobs.
router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=list[JobOut], operation_id="listJobs")
def list_jobs(
    session: DbSession,
    state: JobState | None = None,
    kind: JobKind | None = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    parent_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[JobOut]:
    """Jobs newest first: watch the queue, find failures, follow an asset's jobs
    (``subject_id``) or a graph's children (``parent_id``)."""
    rows = service.list_jobs(
        session=session,
        state=state,
        kind=kind,
        subject_id=subject_id,
        parent_id=parent_id,
        limit=limit,
    )
    return [JobOut.model_validate(j) for j in rows]


@router.get("/{job_id}", response_model=JobOut, operation_id="getJob", responses=responses(404))
def get_job(job_id: str, session: DbSession) -> JobOut:
    return JobOut.model_validate(service.get_job(session=session, job_id=job_id))


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    operation_id="cancelJob",
    responses=responses(404, 409),
)
def cancel_job(
    job_id: str, session: DbSession, executor: ExecutorDep, registry: JobRegistryDep
) -> JobOut:
    """Cancel a job: a queued one at once; a running one stops FFmpeg and removes output."""
    job = service.request_cancel(session=session, job_id=job_id, on_give_up=registry.on_give_up)
    # A running job's worker must see cancel_requested when told to stop (any worker
    # elsewhere sees it at its next heartbeat).
    for jid in service.subtree_ids(session=session, job_id=job_id):
        on_commit(session, partial(executor.cancel, jid))
    return JobOut.model_validate(job)


@router.post(
    "/{job_id}/retry", response_model=JobOut, operation_id="retryJob", responses=responses(404, 409)
)
def retry_job(job_id: str, session: DbSession, executor: ExecutorDep) -> JobOut:
    """Re-queue a failed job."""
    job = service.retry_job(session=session, job_id=job_id)
    on_commit(session, partial(executor.submit, job_id))
    return JobOut.model_validate(job)
