"""A source with several audio streams packages to one rendition per stream:
languages in the HLS master and the MPD, every rendition AAC-LC stereo 48 kHz,
each really its own source stream, in source order."""

from __future__ import annotations

import array
import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import pytest

from reelstack.media.manifests import Track, read_mpd
from reelstack.media.package import transcode_and_package
from reelstack.media.probe import probe
from reelstack.media.testclips import make_multi_audio_clip
from tests.media.mpd_rules import check_published_mpd

pytestmark = pytest.mark.e2e

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}
# (frequency, channels, language, title) in source order.
SOURCE_TRACKS = [
    (440, 2, "eng", None),
    (1000, 6, "spa", None),
    (2500, 1, "eng", "Director's Commentary"),
]


def decode_audio(track: Track, base: Path) -> list[av.AudioFrame]:
    joined = base / f"joined-{track.rep_id}.mp4"
    with joined.open("wb") as fh:
        for uri in (track.init_uri, *(s.uri for s in track.segments)):
            fh.write((base / uri).read_bytes())
    with av.open(str(joined)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.profile == "LC"
        return list(container.decode(stream))


def dominant_hz(frames: list[av.AudioFrame]) -> float:
    """Frequency of a pure tone from its zero crossings (left channel, middle 1 s)."""
    samples = array.array("f")
    for frame in frames:
        assert frame.format.name == "fltp"
        samples.frombytes(bytes(frame.planes[0])[: frame.samples * 4])
    middle = samples[len(samples) // 4 : len(samples) // 4 + 48000]
    crossings = sum(1 for a, b in itertools.pairwise(middle) if (a < 0) != (b < 0))
    return crossings / 2 * 48000 / len(middle)


def test_every_audio_stream_becomes_its_own_rendition(tmp_path: Path) -> None:
    source = make_multi_audio_clip(tmp_path / "multi.mp4", tracks=SOURCE_TRACKS, duration_s=2.5)
    assert [(a.channels, a.language) for a in probe(source).audio] == [
        (2, "eng"),
        (6, "spa"),
        (1, "eng"),
    ]
    out = tmp_path / "out"
    result = transcode_and_package(source=source, out_dir=out, ladder="tiny")
    check_published_mpd(result.mpd_path)
    _, tracks = read_mpd(result.mpd_path)

    # PackageResult: one entry per source stream, in source order.
    assert result.audio
    assert [
        (a.language, a.name, a.channels, a.role, a.default, a.source_index)
        for a in result.audio_tracks
    ] == [
        ("en", "English", 2, "main", True, 0),
        ("es", "Spanish", 2, "alternate", False, 1),
        ("en", "Director's Commentary", 2, "commentary", False, 2),
    ]

    # HLS master: one EXT-X-MEDIA per track, DEFAULT only on the first.
    master = result.master_path.read_text()
    media = [x for x in master.splitlines() if x.startswith("#EXT-X-MEDIA:")]
    assert len(media) == 3
    assert [x.split('LANGUAGE="')[1].split('"')[0] for x in media] == ["en", "es", "en"]
    assert [x.split('NAME="')[1].split('"')[0] for x in media] == [
        "English",
        "Spanish",
        "Director's Commentary",
    ]
    assert ["DEFAULT=YES" in x for x in media] == [True, False, False]
    assert all('GROUP-ID="aac"' in x and 'CHANNELS="2"' in x for x in media)
    uris = [x.split('URI="')[1].split('"')[0] for x in media]
    assert uris == [a.playlist for a in result.audio_tracks]

    # Variants carry the largest audio peak.
    audio = [t for t in tracks if t.kind == "audio"]
    video = [t for t in tracks if t.kind == "video"]
    assert len(audio) == 3
    by_id = {t.rep_id: t for t in video}
    largest = max(a.peak_bitrate for a in audio)
    for line, rendition in zip(
        (x for x in master.splitlines() if x.startswith("#EXT-X-STREAM-INF:")),
        result.renditions,
        strict=True,
    ):
        track = by_id[rendition.playlist.rsplit("_", 1)[1].removesuffix(".m3u8")]
        assert rendition.bandwidth == track.peak_bitrate + largest
        assert f"BANDWIDTH={rendition.bandwidth}," in line
        assert 'AUDIO="aac"' in line

    # MPD: one audio AdaptationSet per track with its lang, label and role.
    root = ET.parse(result.mpd_path).getroot()
    sets = [
        s for s in root.iterfind("d:Period/d:AdaptationSet", NS) if s.get("contentType") == "audio"
    ]
    assert [len(s.findall("d:Representation", NS)) for s in sets] == [1, 1, 1]
    assert [s.get("lang") for s in sets] == ["en", "es", "en"]
    assert [s.findtext("d:Label", namespaces=NS) for s in sets] == [
        "English",
        "Spanish",
        "Director's Commentary",
    ]
    assert [s.find("d:Role", NS).get("value") for s in sets] == [  # type: ignore[union-attr]
        "main",
        "alternate",
        "commentary",
    ]

    # Same segment count and target duration on every audio playlist.
    assert len({len(t.segments) for t in audio}) == 1
    targets = {
        line
        for p in out.glob("*.m3u8")
        for line in p.read_text().splitlines()
        if line.startswith("#EXT-X-TARGETDURATION")
    }
    assert len(targets) == 1

    # Each rendition decodes to stereo 48 kHz and is its own source stream, in order.
    for track, (freq, _, _, _) in zip(audio, SOURCE_TRACKS, strict=True):
        frames = decode_audio(track, out)
        assert {(f.layout.nb_channels, f.sample_rate) for f in frames} == {(2, 48000)}
        assert sum(f.samples for f in frames) / 48000 == pytest.approx(2.5, abs=0.1)
        assert dominant_hz(frames) == pytest.approx(freq, rel=0.03)


def test_single_audio_source_keeps_one_default_rendition_with_language(tmp_path: Path) -> None:
    source = make_multi_audio_clip(tmp_path / "one.mp4", tracks=[(440, 2, "fre", None)])
    result = transcode_and_package(source=source, out_dir=tmp_path / "out", ladder="tiny")
    check_published_mpd(result.mpd_path)
    media = [x for x in result.master_path.read_text().splitlines() if "#EXT-X-MEDIA" in x]
    assert media == [
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",LANGUAGE="fr",NAME="French",DEFAULT=YES,'
        f'AUTOSELECT=YES,CHANNELS="2",URI="{result.audio_tracks[0].playlist}"'
    ]
    mpd = result.mpd_path.read_text()
    assert mpd.count('contentType="audio"') == 1 and 'lang="fr"' in mpd
