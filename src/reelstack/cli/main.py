from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from reelstack.cli import accounts_cmd, edge_cmd, package_cmd
from reelstack.cli.signals import terminate_as_interrupt

if TYPE_CHECKING:
    from reelstack.config import Settings
    from reelstack.security import KeySource

app = typer.Typer(no_args_is_help=True, help="Reelstack: an open-source OTT backend.")
console = Console(stderr=True)
package_cmd.register(app)
accounts_cmd.register(app)
edge_cmd.register(app)


def _settings() -> Settings:
    # Imported on use: `reelstack package` needs no settings and starts faster without.
    from reelstack.config import get_settings

    return get_settings()


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    from reelstack.db import migrate as run_migrations

    settings = _settings()
    run_migrations(settings.resolved_database_url)
    _schedule_periodic_jobs(settings)
    console.print(f"migrated {settings.resolved_database_url.split('@')[-1]}")


def _schedule_periodic_jobs(settings: Settings) -> None:
    """Queue the periodic jobs (analytics rollups and retention) that have no pending
    run; each run queues the next."""
    from reelstack.analytics.jobs import ensure_scheduled
    from reelstack.db import session_scope
    from reelstack.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            ensure_scheduled(session=session)
    finally:
        runtime.close()


def _serve(settings: Settings) -> None:
    import os

    import uvicorn

    from reelstack.app import create_app

    # access_log=False: RequestContext already logs every request (sampled, with its id).
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "access_log": False,
    }
    if settings.api_workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Worker processes build their own app from the environment: hand them the key
    # resolved here (it may come from the data dir's file).
    if settings.admin_api_key is not None:
        os.environ["REELSTACK_ADMIN_API_KEY"] = settings.admin_api_key.get_secret_value()
    uvicorn.run("reelstack.app:create_app", factory=True, workers=settings.api_workers, **options)


def _server_settings() -> Settings:
    """Settings for serving: the admin key resolved and production mode checked.

    Refuses (exit 2, one line per offending setting) when production mode meets demo
    secrets, wildcard CORS or a missing or weak admin key.
    """
    from reelstack.config import UnsafeProductionSettings, check_production
    from reelstack.security import with_admin_key

    settings, source = with_admin_key(_settings())
    try:
        check_production(settings)
    except UnsafeProductionSettings as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    _print_admin_key(settings, source)
    return settings


def _print_admin_key(settings: Settings, source: KeySource) -> None:
    from reelstack.security import KeySource, admin_key_path

    base = f"http://{settings.host}:{settings.port}"
    if source is KeySource.ENV:
        console.print("admin API key: from REELSTACK_ADMIN_API_KEY", highlight=False)
        shown = "$REELSTACK_ADMIN_API_KEY"
    elif settings.admin_api_key is not None:
        verb = "generated" if source is KeySource.GENERATED else "kept"
        shown = settings.admin_api_key.get_secret_value()
        console.print(
            f"admin API key ({verb} in {admin_key_path(settings)}): {shown}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    else:
        return
    console.print(
        f'  curl -H "Authorization: Bearer {shown}" {base}/v1/admin/jobs',
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def api() -> None:
    """Serve the API (with the embedded worker unless REELSTACK_EMBEDDED_WORKER=false).

    The admin API key is REELSTACK_ADMIN_API_KEY when set. In demo mode without it, the
    key kept in the data dir (file ``admin-api-key``, mode 0600) is used, generated on
    the first start, exactly as ``reelstack run`` does, so both commands accept the same
    key; it is printed at start. In production mode the key must be set, or nothing
    starts.
    """
    _serve(_server_settings())


@app.command()
def openapi(
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the document here")] = None,
    ts_out: Annotated[Path | None, typer.Option("--ts", help="Write TypeScript types here")] = None,
) -> None:
    """Print the OpenAPI document, or write it and the web client's TypeScript types."""
    import json
    import tempfile

    from reelstack.app import create_app
    from reelstack.config import Settings
    from reelstack.openapi_ts import render_typescript

    # The document does not depend on configuration; a throwaway data dir keeps it pure.
    with tempfile.TemporaryDirectory() as tmp:
        spec = create_app(Settings(data_dir=Path(tmp))).openapi()
    text = json.dumps(spec, indent=2) + "\n"
    if json_out:
        json_out.write_text(text, encoding="utf-8")
    if ts_out:
        ts_out.write_text(render_typescript(spec), encoding="utf-8")
    if not json_out and not ts_out:
        typer.echo(text, nl=False)


@app.command()
def demo() -> None:
    """Seed the demo title (a generated 30 s 1080p clip) unless the catalog has titles."""
    from reelstack.cli.seed import seed_demo, seed_demo_accounts

    seed_demo_accounts(_settings(), console=console)
    seed_demo(_settings(), console=console)


@app.command()
def run() -> None:
    """Migrate, seed the demo title and serve everything on one port.

    Prints the admin API key (generated into the data dir on first start, unless
    REELSTACK_ADMIN_API_KEY is set) with a curl example.
    """
    from reelstack.cli.seed import seed_demo, seed_demo_accounts
    from reelstack.db import migrate as run_migrations

    settings = _server_settings()
    run_migrations(settings.resolved_database_url)
    _schedule_periodic_jobs(settings)
    seed_demo_accounts(settings, console=console)
    seed_demo(settings, console=console)
    edge = None
    if settings.edge:
        edge, settings = _start_edge(settings)
    console.print(f"Reelstack on http://{settings.host}:{settings.port}/  (player: /app/)")
    try:
        _serve(settings)
    finally:
        if edge is not None:
            edge.terminate()
            edge.wait(15)


def _start_edge(settings: Settings) -> tuple[subprocess.Popen[bytes], Settings]:
    """REELSTACK_EDGE=1: an nginx edge beside the API (`reelstack edge run`, following
    the purge feed), and media URLs pointing at it."""
    import os
    import sys

    origin = f"http://{settings.host}:{settings.port}"
    edge_url = f"http://{settings.host}:{settings.edge_port}"
    prefix = (settings.data_dir / "edge").absolute()
    command = [
        sys.executable, "-m", "reelstack", "edge", "run",
        "--origin", origin, "--listen", f"{settings.host}:{settings.edge_port}",
        "--prefix", str(prefix), "--cache-dir", str(prefix / "cache"),
        "--api-url", origin,
    ]  # fmt: skip
    if os.geteuid() == 0:
        command += ["--user", "root"]  # workers must reach the data dir
    env = dict(os.environ)
    if settings.admin_api_key is not None:
        env["REELSTACK_EDGE_API_KEY"] = settings.admin_api_key.get_secret_value()
    proc = subprocess.Popen(command, env=env)
    # API worker processes read their settings from the environment too.
    os.environ["REELSTACK_DELIVERY_BASE_URL"] = edge_url
    console.print(f"edge on {edge_url} (nginx, cache in {prefix / 'cache'})")
    return proc, settings.model_copy(update={"delivery_base_url": edge_url})


@app.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", help="Jobs at once (REELSTACK_WORKER_CONCURRENCY)"),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor", help="embedded or celery (default: REELSTACK_EXECUTOR, embedded)"
        ),
    ] = None,
    queues: Annotated[
        str,
        typer.Option("--queues", help="Celery only: the queues to consume, comma-separated"),
    ] = "short,long",
) -> None:
    """Run jobs without serving the API.

    Embedded (the default): claims due jobs from the database (any process may have
    queued them), re-queues jobs whose worker died, and on Ctrl-C or SIGTERM stops FFmpeg
    and hands its running jobs back to the queue.

    Celery (``--executor celery`` or REELSTACK_EXECUTOR=celery): a Celery worker on
    REELSTACK_BROKER_URL consuming ``--queues`` (short: publish and clean-up; long:
    encodes) with ``--concurrency`` processes; it runs the same handlers, re-queues jobs
    of dead workers and re-publishes jobs whose message was lost.
    """
    from reelstack.config import UnsafeProductionSettings, check_production
    from reelstack.logs import configure_logging

    settings = _settings()
    try:
        check_production(settings)
    except UnsafeProductionSettings as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    kind = executor or settings.executor
    if kind not in ("embedded", "celery"):
        console.print(f"--executor must be embedded or celery, not {kind!r}", style="red")
        raise typer.Exit(2)
    configure_logging(level=settings.log_level, json=settings.log_json)
    if kind == "celery":
        _celery_worker(settings, queues, concurrency or settings.worker_concurrency)
        return
    _embedded_worker(settings, concurrency)


def _celery_worker(settings: Settings, queues: str, concurrency: int) -> None:
    from reelstack.celery_worker import run_worker

    if settings.broker_url is None:
        console.print("the celery executor needs REELSTACK_BROKER_URL", style="red")
        raise typer.Exit(2)
    names = [q.strip() for q in queues.split(",") if q.strip()]
    try:
        code = run_worker(settings, queues=names, concurrency=concurrency)
    except ValueError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    if code:
        raise typer.Exit(code)


def _embedded_worker(settings: Settings, concurrency: int | None) -> None:
    from reelstack.bootstrap import job_registry
    from reelstack.jobs.executor import LocalExecutor
    from reelstack.runtime import build_runtime

    runtime = build_runtime(settings)
    executor = LocalExecutor(runtime, job_registry(), concurrency=concurrency)
    executor.start()
    console.print(f"worker {executor.worker_name}: {executor.concurrency} job(s) at once")
    try:
        with terminate_as_interrupt():
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopping: running jobs go back to the queue")
    finally:
        executor.stop()
        runtime.close()


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    title: Annotated[str, typer.Option("--title", help="Catalog title")],
    wait: Annotated[bool, typer.Option("--wait", help="Transcode here and wait")] = False,
) -> None:
    """Ingest a video file: probe, store, create the title and its transcode job."""
    from reelstack.bootstrap import job_registry
    from reelstack.errors import AppError
    from reelstack.ingest.service import ingest_file
    from reelstack.jobs.executor import LocalExecutor
    from reelstack.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        result = ingest_file(runtime=runtime, path=file, title=title, original_filename=file.name)
    except AppError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.detail}")
        raise typer.Exit(2) from exc
    console.print(f"title {result.title_id}  asset {result.asset_id}  job {result.job_id}")
    if not wait:
        if runtime.settings.executor == "celery":
            from reelstack.jobs.celery_app import CeleryExecutor

            publisher = CeleryExecutor(runtime)
            publisher.submit(result.job_id)
            publisher.stop()
            console.print("queued: published to the Celery workers")
        else:
            console.print("queued: a running `reelstack api` or `reelstack run` will transcode it")
        runtime.close()
        return
    executor = LocalExecutor(runtime, job_registry())
    executor.start(recover=False)
    started = time.monotonic()
    try:
        with terminate_as_interrupt():
            executor.wait_for([result.job_id])
    finally:
        # On Ctrl-C or SIGTERM this stops FFmpeg and leaves the job queued for a worker.
        executor.stop()
    from reelstack.db import session_scope
    from reelstack.jobs.service import get_job

    with session_scope(runtime.sessions) as session:
        job = get_job(session=session, job_id=result.job_id)
        state, error = job.state.value, job.error
    console.print(f"job {state} in {time.monotonic() - started:.1f}s")
    runtime.close()
    if state != "succeeded":
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1)


def main() -> None:
    app()
