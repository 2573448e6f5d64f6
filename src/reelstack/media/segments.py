"""Measure the fMP4 segments FFmpeg wrote into :class:`Track` s.

Nothing is taken from FFmpeg's own manifest: codecs, sizes and timescales come
from each init segment, segment times from each media segment's ``tfdt`` and
``trun`` (with the init segment's edit list applied, as a player presents them),
bitrates from file sizes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reelstack.media.bmff import BmffError, InitInfo, frame_rate, read_fragment_timing, read_init
from reelstack.media.errors import ProcessingFailed
from reelstack.media.manifests import Segment, Track, TrackKind, expand_template

CMAF_BRAND = "cmfc"


@dataclass(frozen=True, slots=True)
class MeasuredTrack:
    """A track and what its init segment declares (brands included)."""

    track: Track
    init: InitInfo

    @property
    def cmaf(self) -> bool:
        """The init segment claims CMAF (``cmfc``) compatibility."""
        return CMAF_BRAND in self.init.brands.compatible or self.init.brands.major == CMAF_BRAND


def measure_track(
    out_dir: Path, rep_id: str, *, media_template: str, init_template: str
) -> MeasuredTrack:
    """Read one representation's init and media segments from ``out_dir``.

    Segment times are presentation times (edit list applied, the first segment
    clipped to start at 0), so segments follow one another without gap or overlap.
    """
    init_uri = expand_template(init_template, rep_id)
    try:
        init = read_init((out_dir / init_uri).read_bytes())
    except OSError as exc:
        raise ProcessingFailed(f"Init segment missing: {init_uri}") from exc
    except BmffError as exc:
        raise ProcessingFailed(f"Unreadable init segment {init_uri}: {exc}") from exc
    if init.kind not in ("video", "audio"):
        raise ProcessingFailed(f"Unexpected {init.kind} track in {init_uri}.")
    uris = _media_uris(out_dir, media_template, rep_id)
    if not uris:
        raise ProcessingFailed(f"No media segment for representation {rep_id}.")

    spans: list[tuple[int, int, int]] = []
    sample_durations: list[int] = []
    for uri in uris:
        path = out_dir / uri
        try:
            timing = read_fragment_timing(
                path.read_bytes(), default_sample_duration=init.default_sample_duration
            )
        except BmffError as exc:
            raise ProcessingFailed(f"Unreadable media segment {uri}: {exc}") from exc
        shift = init.media_time_offset
        spans.append((timing.start - shift, timing.end - shift, path.stat().st_size))
        sample_durations += timing.sample_durations
    segments = tuple(_segments(uris, spans, init.timescale))
    kind: TrackKind = "video" if init.kind == "video" else "audio"
    track = Track(
        rep_id=rep_id,
        kind=kind,
        codecs=init.codecs,
        init_uri=init_uri,
        segments=segments,
        width=init.width,
        height=init.height,
        frame_rate=frame_rate(init.timescale, sample_durations) if kind == "video" else None,
        channels=init.channels,
        timescale=init.timescale,
        sample_rate=init.sample_rate,
    )
    return MeasuredTrack(track, init)


def _media_uris(out_dir: Path, media_template: str, rep_id: str) -> list[str]:
    """The representation's media segments, numbered from 1 up to the first missing one."""
    uris = []
    number = 1
    while (out_dir / (uri := expand_template(media_template, rep_id, number))).is_file():
        uris.append(uri)
        number += 1
    return uris


def _segments(
    uris: list[str], spans: list[tuple[int, int, int]], timescale: int
) -> Iterable[Segment]:
    """Segments laid end to end: each starts where the next one's first frame shows."""
    for k, (uri, (start, end, size)) in enumerate(zip(uris, spans, strict=True)):
        start = max(start, 0)
        stop = spans[k + 1][0] if k + 1 < len(spans) else end
        if stop <= start:
            raise ProcessingFailed(f"Segment {uri} has no duration on the timeline.")
        duration = stop - start
        yield Segment(uri, duration / timescale, size, start, duration)
