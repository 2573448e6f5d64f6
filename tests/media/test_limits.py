# ruff: noqa: E501 -- the fixtures are manifest lines as our writers emit them, unwrapped
"""Session manifests without the renditions above a plan's height."""

from __future__ import annotations

import io

from mpegdash.parser import MPEGDASHParser

from reelstack.media.limits import limit_hls_master, limit_mpd

MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio-3.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=400000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000,AUDIO="aac"
video-0.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=3300000,AVERAGE-BANDWIDTH=3000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="aac"
video-1.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=6600000,AVERAGE-BANDWIDTH=6000000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=30.000,AUDIO="aac"
video-2.m3u8
"""

MPD = """<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT20S" minBufferTime="PT2S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" maxWidth="1920" maxHeight="1080">
      <SegmentTemplate timescale="15360" initialization="init-$RepresentationID$.m4s" media="seg-$RepresentationID$-$Number%05d$.m4s" startNumber="1" duration="92160"/>
      <Representation id="0" bandwidth="500000" codecs="avc1.64001e" width="640" height="360"/>
      <Representation id="1" bandwidth="3300000" codecs="avc1.64001f" width="1280" height="720"/>
      <Representation id="2" bandwidth="6600000" codecs="avc1.640028" width="1920" height="1080"/>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" lang="en">
      <SegmentTemplate timescale="48000" initialization="init-$RepresentationID$.m4s" media="seg-$RepresentationID$-$Number%05d$.m4s" startNumber="1" duration="288000"/>
      <Representation id="3" bandwidth="130000" codecs="mp4a.40.2" audioSamplingRate="48000"/>
    </AdaptationSet>
  </Period>
</MPD>
"""

BASE = "/media/abc/v3/"


def test_hls_master_drops_taller_variants_and_anchors_uris() -> None:
    out = limit_hls_master(MASTER, max_height=720, base=BASE)
    assert "RESOLUTION=1920x1080" not in out and "video-2.m3u8" not in out
    lines = out.splitlines()
    assert f"{BASE}video-0.m3u8" in lines and f"{BASE}video-1.m3u8" in lines
    assert f'URI="{BASE}audio-3.m3u8"' in out
    # Every variant still has its URI right after its tag.
    tags = [i for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:")]
    assert [lines[i + 1] for i in tags] == [f"{BASE}video-0.m3u8", f"{BASE}video-1.m3u8"]


def test_hls_master_keeps_the_shortest_when_all_are_taller() -> None:
    out = limit_hls_master(MASTER, max_height=240, base=BASE)
    assert out.count("#EXT-X-STREAM-INF:") == 1 and f"{BASE}video-0.m3u8" in out


def test_mpd_drops_taller_representations_and_adds_a_base_url() -> None:
    out = limit_mpd(MPD, max_height=720, base=BASE)
    mpd = MPEGDASHParser.parse(io.StringIO(out).read())
    assert mpd.base_urls[0].base_url_value == BASE
    video, audio = mpd.periods[0].adaptation_sets
    assert [r.height for r in video.representations] == [360, 720]
    assert (video.max_height, video.max_width) == (720, 1280)
    assert [r.id for r in audio.representations] == ["3"]
    # The default namespace is kept (no ns0: prefixes a player would not understand).
    assert 'xmlns="urn:mpeg:dash:schema:mpd:2011"' in out and "ns0:" not in out
