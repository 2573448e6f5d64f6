"""``reelstack edge render|run``: an nginx edge (or shield) that checks signed media URLs
and caches media in front of the origin (reelstack.delivery.edge). The signing scheme
and secret come from REELSTACK_URL_SIGNING and REELSTACK_URL_SIGNING_SECRET."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from reelstack.delivery.edge import EdgeConfig

edge_app = typer.Typer(
    help="An nginx edge cache in front of the origin (signed media URLs).",
    no_args_is_help=True,
)
console = Console(stderr=True)

Origin = Annotated[str, typer.Option("--origin", help="The origin, http(s)://host[:port]")]
CacheDir = Annotated[Path, typer.Option("--cache-dir", help="Directory of the media cache")]
Listen = Annotated[str, typer.Option("--listen", help="host:port (or port) to listen on")]
Shield = Annotated[
    str | None,
    typer.Option("--shield", help="Fill the cache from this shield (an edge) instead"),
]
Workers = Annotated[
    int | None, typer.Option("--workers", min=1, help="Worker processes (default: one a core)")
]
CacheSize = Annotated[str, typer.Option("--cache-max-size", help="Cache size limit, e.g. 10g")]
User = Annotated[
    str | None, typer.Option("--user", help="Workers' user when started as root (default nobody)")
]


def _config(
    *,
    origin: str,
    cache_dir: Path,
    listen: str,
    shield: str | None,
    prefix: Path,
    daemon: bool,
    workers: int | None,
    cache_max_size: str,
    user: str | None,
) -> EdgeConfig:
    from reelstack.config import get_settings
    from reelstack.delivery.edge import EdgeConfig
    from reelstack.delivery.signing import Scheme

    settings = get_settings()
    if settings.url_signing == "off":
        console.print(
            "REELSTACK_URL_SIGNING is off: an edge serves signed URLs only (hmac or md5)",
            style="red",
        )
        raise typer.Exit(2)
    return EdgeConfig(
        origin=origin,
        cache_dir=cache_dir.absolute(),
        listen=listen,
        scheme=Scheme(settings.url_signing),
        secret=settings.url_signing_secret.get_secret_value(),
        prefix=prefix.absolute(),
        shield=shield,
        daemon=daemon,
        workers=workers,
        cache_max_size=cache_max_size,
        user=user,
        country_header=settings.country_header,
        blocked_countries=tuple(settings.blocked_countries),
        # The API's CORS origins may send the signed media cookie ("*" names none).
        cookie_origins=tuple(o for o in settings.cors_origins if o != "*"),
    )


@edge_app.command("render")
def render(
    origin: Origin,
    cache_dir: CacheDir,
    listen: Listen,
    shield: Shield = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the config here (and the njs module beside it)"),
    ] = None,
    prefix: Annotated[
        Path | None,
        typer.Option(
            "--prefix",
            help="nginx -p: pid, logs/ and tmp/ (default: the --out directory, else .)",
        ),
    ] = None,
    workers: Workers = None,
    cache_max_size: CacheSize = "10g",
    user: User = None,
) -> None:
    """Print an edge's complete nginx.conf, or write it (and, for hmac signing, the njs
    module it imports) with --out. Run it with ``nginx -p PREFIX -c FILE``; PREFIX/logs,
    PREFIX/tmp and the cache dir must exist (``edge run`` makes them)."""
    from reelstack.delivery.edge import NJS_NAME, render_edge, write_edge

    if prefix is None:
        prefix = out.parent if out is not None else Path()
    try:
        config = _config(
            origin=origin,
            cache_dir=cache_dir,
            listen=listen,
            shield=shield,
            prefix=prefix,
            daemon=True,
            workers=workers,
            cache_max_size=cache_max_size,
            user=user,
        )
        files = write_edge(config, out) if out is not None else render_edge(config)
    except ValueError as exc:
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from exc
    if out is None:
        typer.echo(files.conf, nl=False)
        if files.njs is not None:
            console.print(f"hmac signing: the config imports {NJS_NAME}; use --out to get it")
    else:
        console.print(f"wrote {out}", markup=False)


@edge_app.command("run")
def run(
    origin: Origin,
    cache_dir: CacheDir,
    listen: Listen,
    prefix: Annotated[
        Path, typer.Option("--prefix", help="Directory for the config, pid, logs/ and tmp/")
    ],
    shield: Shield = None,
    workers: Workers = None,
    cache_max_size: CacheSize = "10g",
    user: User = None,
    nginx: Annotated[str, typer.Option("--nginx", help="The nginx binary")] = "nginx",
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Follow this API's purge feed (usually the origin)"),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="REELSTACK_EDGE_API_KEY",
            help="An API key with admin:read, to read the purge feed",
        ),
    ] = None,
    poll_s: Annotated[float, typer.Option("--poll-s", min=0.2, help="Feed poll period")] = 1.0,
) -> None:
    """Render the edge into --prefix and run nginx in the foreground. Without --api-url
    nginx replaces this process (signals and exit status are nginx's); with it, this
    process stays to apply purges and revocations (nginx reloads them within
    --poll-s seconds) and passes SIGTERM/SIGINT on to nginx."""
    from reelstack.delivery.edge import CONF_NAME, prepare_prefix, write_edge

    binary = shutil.which(nginx) or shutil.which(nginx, path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        console.print(f"error: {nginx} not found (install nginx, or pass --nginx)", markup=False)
        raise typer.Exit(2)
    try:
        config = _config(
            origin=origin,
            cache_dir=cache_dir,
            listen=listen,
            shield=shield,
            prefix=prefix,
            daemon=False,
            workers=workers,
            cache_max_size=cache_max_size,
            user=user,
        )
        conf = config.prefix / CONF_NAME
        prepare_prefix(config)
        write_edge(config, conf)
    except ValueError as exc:
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from exc
    console.print(f"edge on {listen} -> {shield or origin} (cache {config.cache_dir})")
    command = [binary, "-p", str(config.prefix), "-c", str(conf)]
    if api_url is None:
        os.execv(binary, command)
    if not api_key:
        console.print("error: --api-url needs --api-key (or REELSTACK_EDGE_API_KEY)")
        raise typer.Exit(2)
    raise typer.Exit(_supervise(command, config.prefix, api_url, api_key, poll_s))


def _supervise(command: list[str], prefix: Path, api_url: str, api_key: str, poll_s: float) -> int:
    """Run nginx as a child and apply the purge feed until nginx exits."""
    import signal
    import subprocess

    import httpx

    from reelstack.delivery.edge_purges import PurgeState, poll_once

    state = PurgeState.load(prefix)
    state.save(prefix)  # the maps nginx includes, as of the last run
    parent = os.getppid()
    proc = subprocess.Popen(command)

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    with httpx.Client(timeout=10) as client:
        while True:
            try:
                return proc.wait(timeout=poll_s)
            except subprocess.TimeoutExpired:
                pass
            if os.getppid() != parent:
                # Whoever started this edge (`reelstack run`) is gone: so is the edge.
                proc.terminate()
                return proc.wait(15)
            try:
                changed = poll_once(client=client, api_url=api_url, api_key=api_key, state=state)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                console.print(f"purge feed: {exc}", markup=False)
                continue
            if changed:
                state.save(prefix)
                proc.send_signal(signal.SIGHUP)  # nginx reloads its config gracefully


def register(app: typer.Typer) -> None:
    app.add_typer(edge_app, name="edge")
