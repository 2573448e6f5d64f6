"""The publishing workflow: transitions, bulk operations, scheduled publish/unpublish."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from reelstack.bootstrap import job_registry
from reelstack.catalog import workflow
from reelstack.catalog.models import TitleState
from reelstack.db import utcnow
from reelstack.jobs.runner import run_job
from reelstack.runtime import Runtime
from tests.catalog.factories import CMS, cms_title
from tests.conftest import row_counts


def _to(client: TestClient, title_id: str, state: str) -> object:
    return client.post(f"{CMS}/titles/{title_id}/transitions", json={"to": state})


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s in TitleState for t in TitleState],
)
def test_transition_table(source: TitleState, target: TitleState) -> None:
    allowed = {
        ("draft", "in_review"),
        ("draft", "archived"),
        ("in_review", "published"),
        ("in_review", "draft"),
        ("in_review", "archived"),
        ("published", "unpublished"),
        ("unpublished", "published"),
        ("unpublished", "draft"),
        ("unpublished", "archived"),
        ("archived", "draft"),
    }
    assert workflow.can_transition(source, target) == ((source.value, target.value) in allowed)


def test_transitions_through_the_api(client: TestClient) -> None:
    made = cms_title(client, title="Flow")
    skip = client.post(f"{CMS}/titles/{made['id']}/transitions", json={"to": "published"})
    assert skip.status_code == 409
    body = skip.json()
    assert body["code"] == "invalid_transition" and body["field"] == "to"
    assert (body["state"], body["to"]) == ("draft", "published")
    assert body["allowed"] == ["archived", "in_review"]
    assert skip.headers["content-type"] == "application/problem+json"
    for state in ("in_review", "published", "unpublished", "archived", "draft"):
        resp = client.post(f"{CMS}/titles/{made['id']}/transitions", json={"to": state})
        assert resp.status_code == 200, resp.text
        assert resp.json()["state"] == state
    same = client.post(f"{CMS}/titles/{made['id']}/transitions", json={"to": "draft"})
    assert same.status_code == 409
    unknown = client.post(f"{CMS}/titles/{made['id']}/transitions", json={"to": "live"})
    assert unknown.status_code == 422
    # Published only once it is: the viewer API follows the state.
    assert client.get(f"/v1/titles/{made['id']}").status_code == 404


def test_bulk_is_all_or_nothing(client: TestClient, runtime: Runtime) -> None:
    ids = [cms_title(client, title=f"Bulk {i}")["id"] for i in range(3)]
    moved = client.post(
        f"{CMS}/titles/bulk", json={"ids": ids, "action": "transition", "to": "in_review"}
    )
    assert moved.status_code == 200 and moved.json()["ids"] == ids
    client.post(f"{CMS}/titles/{ids[0]}/transitions", json={"to": "published"})
    # ids[0] is published: in_review -> published fails for it, so nothing moves.
    refused = client.post(
        f"{CMS}/titles/bulk",
        json={"ids": [*ids, "missing"], "action": "transition", "to": "published"},
    )
    assert refused.status_code == 409
    assert refused.json()["failures"] == [
        {"id": ids[0], "code": "invalid_transition"},
        {"id": "missing", "code": "not_found"},
    ]
    states = [client.get(f"{CMS}/titles/{i}").json()["state"] for i in ids]
    assert states == ["published", "in_review", "in_review"]
    counts = row_counts(runtime)
    no_delete = client.post(f"{CMS}/titles/bulk", json={"ids": ids, "action": "delete"})
    assert no_delete.status_code == 409
    assert no_delete.json()["failures"] == [{"id": ids[0], "code": "not_deletable"}]
    assert row_counts(runtime) == counts
    deleted = client.post(f"{CMS}/titles/bulk", json={"ids": ids[1:], "action": "delete"})
    assert deleted.status_code == 200
    assert row_counts(runtime)["titles"] == counts["titles"] - 2
    too_many = client.post(
        f"{CMS}/titles/bulk", json={"ids": [f"t{i}" for i in range(101)], "action": "delete"}
    )
    assert too_many.status_code == 422
    no_target = client.post(f"{CMS}/titles/bulk", json={"ids": ids[:1], "action": "transition"})
    assert no_target.status_code == 422 and no_target.json()["field"] == "to"


def test_scheduled_publish_fires_in_the_job_handler(client: TestClient, runtime: Runtime) -> None:
    made = cms_title(client, title="Later")
    _to(client, made["id"], "in_review")
    at = utcnow() + timedelta(hours=1)
    planned = client.post(
        f"{CMS}/titles/{made['id']}/schedules", json={"action": "publish", "at": at.isoformat()}
    )
    assert planned.status_code == 201, planned.text
    schedule = planned.json()
    assert schedule["state"] == "pending" and schedule["job_id"]
    assert schedule["created_by"] == "admin_key"
    # Not due yet: a worker finds nothing to claim.
    registry = job_registry()
    assert (
        run_job(
            runtime, registry, worker="w:1", cancel=threading.Event(), job_id=schedule["job_id"]
        )
        is None
    )
    # The handler's work, run directly as the job would when its time comes.
    with runtime.sessions() as session:
        assert workflow.fire(session=session, schedule_id=schedule["id"]) == "done"
        session.commit()
        assert workflow.fire(session=session, schedule_id=schedule["id"]) == "skipped"
    title = client.get(f"{CMS}/titles/{made['id']}").json()
    assert title["state"] == "published" and title["published_at"]
    assert client.get(f"/v1/titles/{made['id']}").status_code == 200
    fired = client.get(f"{CMS}/schedules/{schedule['id']}").json()
    assert fired["state"] == "done" and fired["done_at"]
    entry = client.get(f"{CMS}/audit", params={"title_id": made["id"]}).json()["items"][0]
    assert entry["action"] == "publish"
    assert (entry["actor_type"], entry["actor_id"]) == ("system", f"schedule:{schedule['id']}")
    assert (entry["before"], entry["after"]) == ({"state": "in_review"}, {"state": "published"})


def test_due_schedules_fire_through_the_executor(client: TestClient) -> None:
    made = cms_title(client, title="Now")
    for state in ("in_review", "published"):
        _to(client, made["id"], state)
    # A time in the past: the embedded worker fires it at once.
    at = (utcnow() - timedelta(seconds=1)).isoformat()
    unpublish = client.post(
        f"{CMS}/titles/{made['id']}/schedules", json={"action": "unpublish", "at": at}
    ).json()
    # Unpublish twice: the second finds the title unpublished and fails, with the reason.
    again = client.post(
        f"{CMS}/titles/{made['id']}/schedules", json={"action": "unpublish", "at": at}
    ).json()
    cancelled = client.post(
        f"{CMS}/titles/{made['id']}/schedules",
        json={"action": "publish", "at": (utcnow() + timedelta(days=1)).isoformat()},
    ).json()
    assert client.delete(f"{CMS}/schedules/{cancelled['id']}").json()["state"] == "cancelled"
    assert client.delete(f"{CMS}/schedules/{cancelled['id']}").status_code == 409
    deadline = time.monotonic() + 30
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {
            s["id"]: s["state"] for s in client.get(f"{CMS}/titles/{made['id']}/schedules").json()
        }
        if states[unpublish["id"]] != "pending" and states[again["id"]] != "pending":
            break
        time.sleep(0.1)
    assert client.get(f"{CMS}/titles/{made['id']}").json()["state"] == "unpublished"
    assert sorted([states[unpublish["id"]], states[again["id"]]]) == ["done", "failed"]
    failed = next(
        s
        for s in client.get(f"{CMS}/titles/{made['id']}/schedules").json()
        if s["state"] == "failed"
    )
    assert failed["error"] == "cannot unpublish a title in state unpublished"
    job = client.get(f"/v1/admin/jobs/{unpublish['job_id']}").json()
    assert job["kind"] == "catalog_schedule" and job["state"] == "succeeded"
