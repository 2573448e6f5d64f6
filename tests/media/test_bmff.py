"""ISO BMFF reading on hand-built boxes (real FFmpeg segments are read in the e2e tests)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from reelstack.media.bmff import (
    BmffError,
    read_file_type,
    read_fragment_timing,
    read_init,
)
from reelstack.media.errors import ProcessingFailed
from reelstack.media.segments import measure_track


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big"), *payload)


def moof(decode_time: int, samples: list[tuple[int, int]], *, version: int = 1) -> bytes:
    """A moof with one traf: tfhd, tfdt and a trun of (duration, composition offset)."""
    trun_flags = 0x100 | 0x800
    rows = b"".join(struct.pack(">Ii", d, c) for d, c in samples)
    return box(
        b"moof",
        full(b"mfhd", 0, 0, struct.pack(">I", 1)),
        box(
            b"traf",
            full(b"tfhd", 0, 0x20000, struct.pack(">I", 1)),
            full(b"tfdt", 1, 0, struct.pack(">Q", decode_time)),
            full(b"trun", version, trun_flags, struct.pack(">I", len(samples)), rows),
        ),
    )


def test_file_type_brands() -> None:
    data = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5cmfciso6") + box(b"moov")
    brands = read_file_type(data)
    assert (brands.major, brands.compatible) == ("iso5", ("iso5", "cmfc", "iso6"))
    with pytest.raises(BmffError):
        read_file_type(box(b"moov"))


def test_fragment_timing_applies_composition_offsets_across_chunks() -> None:
    # Two chunks (moofs) in one segment; B-frames shift presentation by 2 frames.
    data = (
        box(b"styp", b"msdh", b"\0\0\0\0", b"msdhmsix")
        + moof(1000, [(512, 1024), (512, 2048), (512, 512)])
        + box(b"mdat", b"x")
        + moof(2536, [(512, 1024)])
        + box(b"mdat", b"y")
    )
    timing = read_fragment_timing(data, default_sample_duration=None)
    assert timing.decode_time == 1000
    assert timing.sample_durations == (512, 512, 512, 512)
    assert (timing.start, timing.end) == (1000 + 1024, 2536 + 1024 + 512)


def test_fragment_without_tfdt_or_samples_is_refused() -> None:
    no_tfdt = box(
        b"moof",
        box(
            b"traf",
            full(b"tfhd", 0, 0, struct.pack(">I", 1)),
            full(b"trun", 0, 0x100, struct.pack(">I", 1), struct.pack(">I", 512)),
        ),
    )
    with pytest.raises(BmffError, match="tfdt"):
        read_fragment_timing(no_tfdt, default_sample_duration=None)
    with pytest.raises(BmffError, match="samples"):
        read_fragment_timing(box(b"styp", b"msdh\0\0\0\0"), default_sample_duration=None)
    # A trun without durations needs a default from tfhd or trex.
    no_duration = box(
        b"moof",
        box(
            b"traf",
            full(b"tfhd", 0, 0, struct.pack(">I", 1)),
            full(b"tfdt", 0, 0, struct.pack(">I", 0)),
            full(b"trun", 0, 0, struct.pack(">I", 3)),
        ),
    )
    with pytest.raises(BmffError, match="duration"):
        read_fragment_timing(no_duration, default_sample_duration=None)
    assert read_fragment_timing(no_duration, default_sample_duration=1024).end == 3072


@pytest.mark.parametrize(
    "data",
    [b"\0\0\0", struct.pack(">I4s", 64, b"ftyp") + b"short", struct.pack(">I4s", 4, b"ftyp")],
)
def test_truncated_or_overrunning_boxes_are_refused(data: bytes) -> None:
    with pytest.raises(BmffError):
        read_file_type(data)


def test_init_without_moov_is_refused() -> None:
    with pytest.raises(BmffError, match="moov"):
        read_init(box(b"ftyp", b"iso5\0\0\0\0iso5"))


def test_measure_track_reports_missing_or_broken_segments(tmp_path: Path) -> None:
    templates = {"media_template": "seg-$RepresentationID$-$Number%05d$.m4s"}
    templates["init_template"] = "init-$RepresentationID$.m4s"
    with pytest.raises(ProcessingFailed, match="Init segment missing"):
        measure_track(tmp_path, "0", **templates)
    (tmp_path / "init-0.m4s").write_bytes(b"garbage!")
    with pytest.raises(ProcessingFailed, match="Unreadable init segment"):
        measure_track(tmp_path, "0", **templates)
