"""Our MPD writer: every document it renders is read back by ``mpegdash`` and
checked with the player rules in ``mpd_rules``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from uuid import UUID

import pytest
from mpegdash.parser import MPEGDASHParser

from reelstack.media.manifests import AudioRendition, Segment, Track, parse_mpd
from reelstack.media.mpd import (
    PROFILE_CMAF,
    PROFILE_ISOFF_LIVE,
    THUMBNAIL_TILE_SCHEME,
    AdaptationSet,
    ContentType,
    Descriptor,
    Period,
    Presentation,
    PresentationType,
    Representation,
    Role,
    SegmentTemplate,
    TimelineEntry,
    cenc_protection,
    clearkey_protection,
    iso_duration,
    render_mpd,
    timeline,
)
from reelstack.media.mpd_vod import vod_presentation
from tests.media.mpd_rules import check_mpd, mpd_problems

NS = "{urn:mpeg:dash:schema:mpd:2011}"
MEDIA = "seg-$RepresentationID$-$Number%05d$.m4s"
INIT = "init-$RepresentationID$.m4s"
FFMPEG_MPD = (Path(__file__).parent / "data" / "ffmpeg.mpd").read_text(encoding="utf-8")
SIZES = {
    "seg-0-00001.m4s": 225_000,
    "seg-0-00002.m4s": 300_000,
    "seg-0-00003.m4s": 25_000,
    "seg-1-00001.m4s": 95_232,
    "seg-1-00002.m4s": 95_915,
    "seg-1-00003.m4s": 16_853,
}
KID = UUID("10000000-1000-1000-1000-100000000001")


def title_tracks() -> list[Track]:
    """A 13 s title: one 320x180 rung (ticks as FFmpeg measured them) and one audio."""
    video, audio = parse_mpd(FFMPEG_MPD, size_of=SIZES.__getitem__)
    return [video, audio]


def children(element: ET.Element) -> list[str]:
    return [c.tag.removeprefix(NS) for c in element]


def vod_text(tracks: list[Track], audio: list[AudioRendition], *, cmaf: bool = True) -> str:
    presentation = vod_presentation(
        tracks, audio, media_template=MEDIA, init_template=INIT, cmaf=cmaf
    )
    text = render_mpd(presentation)
    check_mpd(text)
    return text


# --- The VOD title ------------------------------------------------------------------


def test_vod_mpd_declares_measured_tracks() -> None:
    video, audio = title_tracks()
    renditions = [AudioRendition(audio, "en", "English", default=True, role="main")]
    text = vod_text([video, audio], renditions)

    mpd = MPEGDASHParser.parse(text)
    assert mpd.type == "static"
    assert mpd.profiles == f"{PROFILE_ISOFF_LIVE},{PROFILE_CMAF}"
    assert mpd.media_presentation_duration == "PT13S"
    assert mpd.min_buffer_time == "PT6S"
    (period,) = mpd.periods
    vset, aset = period.adaptation_sets
    assert (vset.content_type, vset.mime_type, vset.frame_rate) == ("video", "video/mp4", "30")
    assert vset.segment_alignment and vset.bitstream_switching is None
    assert (vset.max_width, vset.max_height, vset.par) == (320, 180, "16:9")
    (rep,) = vset.representations
    assert (rep.id, rep.codecs, rep.width, rep.height, rep.sar) == (
        "0",
        "avc1.64000d",
        320,
        180,
        "1:1",
    )
    assert rep.bandwidth == video.peak_bitrate == 400_000
    assert (aset.content_type, aset.mime_type, aset.lang) == ("audio", "audio/mp4", "en")
    assert [r.value for r in aset.roles] == ["main"]
    (arep,) = aset.representations
    assert (arep.id, arep.codecs, arep.bandwidth) == ("1", "mp4a.40.2", audio.peak_bitrate)
    assert arep.audio_sampling_rate == "48000"
    assert arep.audio_channel_configurations[0].value == "2"

    root = ET.fromstring(text)
    sets = root.findall(f"{NS}Period/{NS}AdaptationSet")
    assert children(sets[1]) == ["Label", "Role", "SegmentTemplate", "Representation"]
    assert sets[1].findtext(f"{NS}Label") == "English"
    # One video rung: its template sits on the set; S run-length as measured.
    timeline_el = sets[0].find(f"{NS}SegmentTemplate/{NS}SegmentTimeline")
    assert timeline_el is not None
    assert [s.attrib for s in timeline_el] == [
        {"t": "0", "d": "92160", "r": "1"},
        {"d": "15360"},
    ]


def test_vod_mpd_reads_back_into_the_same_tracks() -> None:
    tracks = title_tracks()
    text = vod_text(tracks, [AudioRendition(tracks[1], "und", "Default", default=True)])
    again = parse_mpd(text, size_of=SIZES.__getitem__)
    assert [t.segments for t in again] == [t.segments for t in tracks]
    assert [(t.rep_id, t.kind, t.codecs, t.init_uri, t.frame_rate) for t in again] == [
        (t.rep_id, t.kind, t.codecs, t.init_uri, t.frame_rate) for t in tracks
    ]


def test_audio_sets_carry_language_label_and_role_each() -> None:
    video, audio = title_tracks()
    spanish = Track("2", "audio", "mp4a.40.2", "init-2.m4s", audio.segments, timescale=48000)
    renditions = [
        AudioRendition(audio, "en", "English", default=True, role="main"),
        AudioRendition(spanish, "es", 'Spanish <"Dub"> & co', default=False, role="alternate"),
        AudioRendition(spanish, "en", "Director's Commentary", default=False, role="commentary"),
    ]
    renditions[2] = AudioRendition(
        Track("3", "audio", "mp4a.40.2", "init-3.m4s", audio.segments, timescale=48000),
        "en",
        "Director's Commentary",
        default=False,
        role="commentary",
    )
    text = vod_text([video, audio, spanish, renditions[2].track], renditions)
    sets = MPEGDASHParser.parse(text).periods[0].adaptation_sets
    assert [s.id for s in sets] == [0, 1, 2, 3]
    assert [s.lang for s in sets[1:]] == ["en", "es", "en"]
    assert [s.roles[0].value for s in sets[1:]] == ["main", "alternate", "commentary"]
    labels = [s.findtext(f"{NS}Label") for s in ET.fromstring(text).iter(f"{NS}AdaptationSet")]
    assert labels[1:] == ["English", 'Spanish <"Dub"> & co', "Director's Commentary"]


def test_rungs_with_one_timeline_share_a_template_else_each_has_its_own() -> None:
    video, _ = title_tracks()
    low = Track("5", "video", "avc1.64000c", "init-5.m4s", video.segments, 256, 144,
                Fraction(30), timescale=15360)  # fmt: skip
    text = vod_text([low, video], [])
    vset = ET.fromstring(text).find(f"{NS}Period/{NS}AdaptationSet")
    assert vset is not None
    assert children(vset) == ["SegmentTemplate", "Representation", "Representation"]

    shifted = Segment("x", 6.0, 1, 0, 92161)
    odd = Track("5", "video", "avc1.64000c", "init-5.m4s", (shifted,), 256, 144,
                Fraction(30), timescale=15360)  # fmt: skip
    text = render_mpd(
        vod_presentation([odd, video], [], media_template=MEDIA, init_template=INIT, cmaf=False)
    )
    vset = ET.fromstring(text).find(f"{NS}Period/{NS}AdaptationSet")
    assert vset is not None
    assert children(vset) == ["Representation", "Representation"]
    assert all(children(rep) == ["SegmentTemplate"] for rep in vset)
    # Without cmfc segments the CMAF profile is not claimed.
    assert MPEGDASHParser.parse(text).profiles == PROFILE_ISOFF_LIVE


def test_vod_needs_video() -> None:
    _, audio = title_tracks()
    with pytest.raises(ValueError, match="video"):
        vod_presentation([audio], [], media_template=MEDIA, init_template=INIT, cmaf=True)


# --- Building blocks ----------------------------------------------------------------


def test_timeline_run_length_and_explicit_t_after_a_gap() -> None:
    assert timeline([(0, 6), (6, 6), (12, 6), (18, 2)]) == (
        TimelineEntry(6, 2, 0),
        TimelineEntry(2),
    )
    # A gap (or a first segment not at 0) restarts with t.
    assert timeline([(10, 6), (16, 6), (30, 6)]) == (
        TimelineEntry(6, 1, 10),
        TimelineEntry(6, 0, 30),
    )
    with pytest.raises(ValueError):
        timeline([(0, 0)])


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "PT0S"), (13, "PT13S"), (5.005, "PT5.005S"), (3723.5, "PT1H2M3.5S"), (120, "PT2M")],
)
def test_iso_duration(seconds: float, text: str) -> None:
    assert iso_duration(seconds) == text


def test_iso_duration_refuses_negative() -> None:
    with pytest.raises(ValueError):
        iso_duration(-1)


def video_set(set_id: int = 0, rep_id: str = "v0", **kwargs: object) -> AdaptationSet:
    template = SegmentTemplate(
        media="$RepresentationID$/$Number$.m4s",
        initialization="$RepresentationID$/init.m4s",
        timescale=90000,
        timeline=timeline([(0, 180000), (180000, 180000)]),
    )
    kwargs.setdefault("segment_template", template)
    return AdaptationSet(
        id=set_id,
        content_type=ContentType.VIDEO,
        mime_type="video/mp4",
        representations=(
            Representation(
                rep_id, 2_000_000, "avc1.640028", width=1920, height=1080,
                frame_rate=Fraction(30000, 1001),
            ),
        ),
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


# --- Live, several periods ----------------------------------------------------------


def test_dynamic_multi_period_presentation() -> None:
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    live_template = SegmentTemplate(
        media="$RepresentationID$/$Time$.m4s",
        initialization="$RepresentationID$/init.m4s",
        timescale=1000,
        presentation_time_offset=60_000,
        timeline=timeline([(60_000, 2000), (62_000, 2000), (64_000, 2000)]),
    )
    second = AdaptationSet(
        id=0,
        content_type=ContentType.VIDEO,
        mime_type="video/mp4",
        segment_template=live_template,
        representations=(Representation("v0", 1_000_000, "avc1.64001f", width=1280, height=720),),
    )
    presentation = Presentation(
        type=PresentationType.DYNAMIC,
        periods=(
            Period("p0", (video_set(),), start_s=0.0),
            Period("p1", (second,), start_s=60.0),
        ),
        availability_start_time=start,
        publish_time=start + timedelta(seconds=66),
        minimum_update_period_s=2,
        time_shift_buffer_depth_s=30,
        suggested_presentation_delay_s=6,
        min_buffer_time_s=4,
        utc_timing=(Descriptor("urn:mpeg:dash:utc:http-iso:2014", "https://time.example/"),),
    )
    text = render_mpd(presentation)
    check_mpd(text)
    mpd = MPEGDASHParser.parse(text)
    assert mpd.type == "dynamic"
    assert mpd.availability_start_time == "2026-05-01T12:00:00.000Z"
    assert mpd.publish_time == "2026-05-01T12:01:06.000Z"
    assert (mpd.minimum_update_period, mpd.time_shift_buffer_depth) == ("PT2S", "PT30S")
    assert mpd.suggested_presentation_delay == "PT6S"
    assert mpd.media_presentation_duration is None
    assert [(p.id, p.start) for p in mpd.periods] == [("p0", "PT0S"), ("p1", "PT1M")]
    template = mpd.periods[1].adaptation_sets[0].segment_templates[0]
    assert template.presentation_time_offset == 60_000
    assert children(ET.fromstring(text)) == ["Period", "Period", "UTCTiming"]
    # The same Representation id may appear again in another Period.
    assert mpd.periods[0].adaptation_sets[0].representations[0].frame_rate == "30000/1001"


def test_static_presentation_with_two_periods() -> None:
    presentation = Presentation(
        periods=(
            Period("ad", (video_set(),), start_s=0.0, duration_s=4.0),
            Period("main", (video_set(),), start_s=4.0),
        ),
        media_presentation_duration_s=8.0,
    )
    text = render_mpd(presentation)
    check_mpd(text)
    assert [p.duration for p in MPEGDASHParser.parse(text).periods] == ["PT4S", None]


# --- Protection, text and thumbnails ------------------------------------------------


def test_content_protection_per_adaptation_set() -> None:
    protected = video_set(
        content_protection=(
            cenc_protection(KID),
            clearkey_protection("https://licence.example/clearkey", KID),
        ),
        labels=("Video",),
        roles=(Role.MAIN,),
    )
    text = render_mpd(
        Presentation(periods=(Period("0", (protected,)),), media_presentation_duration_s=4)
    )
    check_mpd(text)
    aset = MPEGDASHParser.parse(text).periods[0].adaptation_sets[0]
    cenc, clearkey = aset.content_protections
    assert (cenc.scheme_id_uri, cenc.value) == ("urn:mpeg:dash:mp4protection:2011", "cenc")
    assert cenc.cenc_default_kid == str(KID)
    assert clearkey.scheme_id_uri == "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"

    root = ET.fromstring(text)
    element = root.find(f"{NS}Period/{NS}AdaptationSet")
    assert element is not None
    assert children(element) == [
        "ContentProtection", "ContentProtection", "Label", "Role", "SegmentTemplate",
        "Representation",
    ]  # fmt: skip
    kid = element[0].get("{urn:mpeg:cenc:2013}default_KID")
    assert kid == "10000000-1000-1000-1000-100000000001"
    laurl = element[1].find("{http://dashif.org/guidelines/clearKey}Laurl")
    assert laurl is not None and laurl.text == "https://licence.example/clearkey"
    assert laurl.get("Lic_type") == "EME-1.0"


def test_unprotected_mpd_declares_no_cenc_namespace() -> None:
    text = render_mpd(
        Presentation(periods=(Period("0", (video_set(),)),), media_presentation_duration_s=4)
    )
    assert "urn:mpeg:cenc:2013" not in text


def test_webvtt_text_sets_single_file_and_segmented() -> None:
    sidecar = AdaptationSet(
        id=1,
        content_type=ContentType.TEXT,
        mime_type="text/vtt",
        lang="fr",
        labels=("Français",),
        roles=(Role.SUBTITLE,),
        segment_alignment=False,
        start_with_sap=None,
        representations=(Representation("sub-fr", 256, base_url="subs/fr.vtt"),),
    )
    segmented = AdaptationSet(
        id=2,
        content_type=ContentType.TEXT,
        mime_type="application/mp4",
        codecs="wvtt",
        lang="en",
        roles=(Role.CAPTION,),
        segment_template=SegmentTemplate(
            media="sub-en/$Number$.m4s", initialization="sub-en/init.m4s",
            timescale=1000, duration=6000,
        ),
        representations=(Representation("sub-en", 512),),
    )  # fmt: skip
    text = render_mpd(
        Presentation(
            periods=(Period("0", (video_set(), sidecar, segmented)),),
            media_presentation_duration_s=4,
        )
    )
    check_mpd(text)
    sets = MPEGDASHParser.parse(text).periods[0].adaptation_sets
    assert [(s.content_type, s.mime_type, s.lang) for s in sets[1:]] == [
        ("text", "text/vtt", "fr"),
        ("text", "application/mp4", "en"),
    ]
    assert sets[1].representations[0].base_urls[0].base_url_value == "subs/fr.vtt"
    assert sets[2].codecs == "wvtt"
    assert sets[2].segment_templates[0].duration == 6000
    assert [s.roles[0].value for s in sets[1:]] == ["subtitle", "caption"]


def test_thumbnail_image_set() -> None:
    thumbs = AdaptationSet(
        id=3,
        content_type=ContentType.IMAGE,
        mime_type="image/jpeg",
        segment_alignment=False,
        start_with_sap=None,
        segment_template=SegmentTemplate(
            media="thumbs/$RepresentationID$/tile-$Number$.jpg", timescale=1, duration=50
        ),
        representations=(
            Representation(
                "thumbs-160", 12_000, width=1600, height=900,
                essential_properties=(Descriptor(THUMBNAIL_TILE_SCHEME, "10x10"),),
            ),
        ),
    )  # fmt: skip
    text = render_mpd(
        Presentation(periods=(Period("0", (video_set(), thumbs)),), media_presentation_duration_s=4)
    )
    check_mpd(text)
    image = MPEGDASHParser.parse(text).periods[0].adaptation_sets[1]
    assert (image.content_type, image.mime_type) == ("image", "image/jpeg")
    prop = image.representations[0].essential_properties[0]
    assert (prop.scheme_id_uri, prop.value) == ("http://dashif.org/thumbnail_tile", "10x10")


# --- The writer refuses what a player would -----------------------------------------


@pytest.mark.parametrize(
    ("presentation", "message"),
    [
        (Presentation(periods=()), "Period"),
        (Presentation(periods=(Period("0", (video_set(),)),)), "mediaPresentationDuration"),
        (
            Presentation(periods=(Period("0", (video_set(),)),), type=PresentationType.DYNAMIC),
            "availabilityStartTime",
        ),
        (
            Presentation(
                periods=(Period("0", (video_set(0, "a"), video_set(1, "a"))),),
                media_presentation_duration_s=4,
            ),
            "Representation ids repeat",
        ),
        (
            Presentation(
                periods=(Period("0", (video_set(0, "a"), video_set(0, "b"))),),
                media_presentation_duration_s=4,
            ),
            "AdaptationSet ids repeat",
        ),
        (
            Presentation(
                periods=(Period("0", (video_set(),)),),
                type=PresentationType.DYNAMIC,
                availability_start_time=datetime(2026, 1, 1),  # naive: the point
                publish_time=datetime(2026, 1, 1, tzinfo=UTC),
            ),
            "timezone",
        ),
    ],
)
def test_render_refuses_invalid_presentations(presentation: Presentation, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_mpd(presentation)


def test_render_refuses_representation_without_addressing_or_bandwidth() -> None:
    bare = AdaptationSet(
        id=0, content_type=ContentType.VIDEO, mime_type="video/mp4",
        representations=(Representation("v", 1, "avc1.640028"),),
    )  # fmt: skip
    with pytest.raises(ValueError, match="addressing"):
        render_mpd(Presentation(periods=(Period("0", (bare,)),), media_presentation_duration_s=1))
    zero = video_set()
    zero = AdaptationSet(
        id=0, content_type=ContentType.VIDEO, mime_type="video/mp4",
        segment_template=zero.segment_template,
        representations=(Representation("v", 0, "avc1.640028"),),
    )  # fmt: skip
    with pytest.raises(ValueError, match="bandwidth"):
        render_mpd(Presentation(periods=(Period("0", (zero,)),), media_presentation_duration_s=1))
    both = SegmentTemplate(
        media="$Number$.m4s", timescale=1, duration=2, timeline=timeline([(0, 2)])
    )
    with pytest.raises(ValueError, match="exactly one"):
        render_mpd(
            Presentation(
                periods=(Period("0", (video_set(segment_template=both),)),),
                media_presentation_duration_s=1,
            )
        )


# --- The rule checker itself catches what it should ---------------------------------


def good_vod() -> str:
    video, audio = title_tracks()
    return vod_text([video, audio], [AudioRendition(audio, "en", "English", default=True)])


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.replace('<S d="15360" />', '<S t="200000" d="15360" />'), "gap before S[1]"),
        (lambda t: t.replace('<S d="15360" />', '<S t="180000" d="15360" />'), "overlap"),
        (lambda t: t.replace('Duration="PT13S"', 'Duration="PT40S"'), "timeline covers"),
        (lambda t: t.replace('codecs="avc1.64000d"', 'codecs="avc1.64d"'), "malformed codecs"),
        (lambda t: t.replace('codecs="mp4a.40.2"', 'codecs="mp4a"'), "malformed codecs"),
        (lambda t: t.replace(' minBufferTime="PT6S"', ""), "minBufferTime"),
        (
            lambda t: t.replace(' mediaPresentationDuration="PT13S"', ""),
            "mediaPresentationDuration",
        ),
        (lambda t: t.replace(' profiles="', ' x="'), "profiles"),
        (lambda t: t.replace('id="1" bandwidth', 'id="0" bandwidth'), "ids repeat"),
        (lambda t: t.replace(' mimeType="audio/mp4"', ""), "@mimeType missing"),
        (lambda t: t.replace(' codecs="mp4a.40.2"', ""), "@codecs missing"),
        (lambda t: t.replace('value="main"', 'value="lead"'), "unknown Role"),
        (lambda t: t.replace('type="static"', 'type="dynamic"'), "availabilityStartTime"),
        (
            lambda t: t.replace(
                'contentType="video"', 'contentType="video" bitstreamSwitching="true"'
            ),
            "bitstreamSwitching",
        ),
        (
            lambda t: (
                t.replace("<Label>English</Label>", "")
                .replace("</Role>", "</Role>")
                .replace('value="main" />', 'value="main" />\n<Label>English</Label>')
            ),
            "<Label> after <Role>",
        ),
    ],
)
def test_rule_checker_catches_broken_mpds(edit: object, problem: str) -> None:
    text = good_vod()
    broken = edit(text)  # type: ignore[operator]
    assert broken != text
    problems = mpd_problems(broken)
    assert any(problem in p for p in problems), problems


def test_rule_checker_compares_bandwidth_with_segment_files(tmp_path: Path) -> None:
    video, _ = title_tracks()
    text = vod_text([video], [])
    for uri, size in SIZES.items():
        (tmp_path / uri).write_bytes(b"\0" * size)
    (tmp_path / "init-0.m4s").write_bytes(b"\0\0\0\x14ftypiso5\0\0\0\0cmfciso6")
    assert mpd_problems(text, base=tmp_path) == []
    (tmp_path / "seg-0-00003.m4s").write_bytes(b"\0" * 200_000)  # now the peak
    assert any("measured peak" in p for p in mpd_problems(text, base=tmp_path))
    (tmp_path / "init-0.m4s").write_bytes(b"\0\0\0\x10ftypiso5\0\0\0\0")
    assert any("cmfc" in p for p in mpd_problems(text, base=tmp_path))
