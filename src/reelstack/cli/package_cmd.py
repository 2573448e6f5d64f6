"""``reelstack package SRC --out DIR``: transcode and package a file locally (no database)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from reelstack.cli.signals import terminate_as_interrupt
from reelstack.media.errors import MediaError
from reelstack.media.ladder import LADDERS
from reelstack.media.package import transcode_and_package


def package(
    src: Annotated[Path, typer.Argument(help="Source video file.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (missing or empty).")],
    ladder: Annotated[
        str, typer.Option("--ladder", help=f"Ladder name: {', '.join(sorted(LADDERS))}.")
    ] = "default",
) -> None:
    """Transcode SRC into an HLS + DASH CMAF ladder under --out."""
    console = Console()
    cancel = threading.Event()
    with (
        terminate_as_interrupt(),
        Progress(
            TextColumn("[bold]packaging"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("transcode", total=100.0)
        try:
            result = transcode_and_package(
                source=src,
                out_dir=out,
                ladder=ladder,
                on_progress=lambda percent: bar.update(task, completed=percent),
                cancel=cancel,
            )
        except KeyboardInterrupt:
            cancel.set()
            raise
        except (MediaError, ValueError, FileExistsError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(code=1) from exc
    for rendition in result.renditions:
        console.print(
            f"  {rendition.name:>6} {rendition.width}x{rendition.height} "
            f"peak {rendition.bandwidth / 1000:.0f} kb/s "
            f"avg {rendition.average_bandwidth / 1000:.0f} kb/s {rendition.codecs}"
        )
    # Plain, unwrapped lines: scripts read these paths.
    typer.echo(f"HLS master: {result.master_path}")
    typer.echo(f"DASH MPD:   {result.mpd_path}")


def register(app: typer.Typer) -> None:
    """Add the ``package`` command to ``app``."""
    app.command("package")(package)


if __name__ == "__main__":
    typer.run(package)
