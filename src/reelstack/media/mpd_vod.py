"""The static MPD of a packaged VOD title, built from measured tracks."""

from __future__ import annotations

import math
from collections.abc import Sequence

from reelstack.media.manifests import AudioRendition, Track
from reelstack.media.mpd import (
    PROFILE_CMAF,
    PROFILE_ISOFF_LIVE,
    AdaptationSet,
    ContentProtection,
    ContentType,
    Period,
    Presentation,
    PresentationType,
    Representation,
    Role,
    SegmentTemplate,
    timeline,
)


def _track_template(track: Track, *, media: str, initialization: str) -> SegmentTemplate:
    return SegmentTemplate(
        media=media,
        initialization=initialization,
        timescale=track.timescale,
        start_number=1,
        timeline=timeline((s.start_ticks, s.duration_ticks) for s in track.segments),
    )


def _hoisted(
    tracks: Sequence[Track], *, media: str, initialization: str
) -> tuple[SegmentTemplate | None, list[SegmentTemplate | None]]:
    """One set-level template when every track has the same timeline, else one each."""
    templates = [_track_template(t, media=media, initialization=initialization) for t in tracks]
    if len(set(templates)) == 1:
        return templates[0], [None] * len(templates)
    return None, list(templates)


def _par(width: int, height: int) -> str:
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"


def vod_presentation(
    tracks: Sequence[Track],
    audio: Sequence[AudioRendition],
    *,
    media_template: str,
    init_template: str,
    cmaf: bool,
    protection: Sequence[ContentProtection] = (),
) -> Presentation:
    """The static MPD of a packaged title: one Period, one video AdaptationSet (every
    rung, ladder order) and one audio AdaptationSet per rendition (lang, Label, Role).

    Every ``@bandwidth`` is the track's measured peak; timelines are the measured
    segment times. ``cmaf`` adds the CMAF profile (every segment carries ``cmfc``).
    ``protection`` (encrypted segments) is declared on every AdaptationSet.
    """
    videos = [t for t in tracks if t.kind == "video"]
    if not videos:
        raise ValueError("a title needs a video track")
    sets: list[AdaptationSet] = []
    set_template, rep_templates = _hoisted(
        videos, media=media_template, initialization=init_template
    )
    rates = {t.frame_rate for t in videos}
    common_rate = rates.pop() if len(rates) == 1 else None
    top = max(videos, key=lambda t: (t.width or 0) * (t.height or 0))
    sets.append(
        AdaptationSet(
            id=0,
            content_type=ContentType.VIDEO,
            mime_type="video/mp4",
            par=_par(top.width, top.height) if top.width and top.height else None,
            frame_rate=common_rate,
            content_protection=tuple(protection),
            segment_template=set_template,
            representations=tuple(
                Representation(
                    id=t.rep_id,
                    bandwidth=t.peak_bitrate,
                    codecs=t.codecs,
                    width=t.width,
                    height=t.height,
                    sar="1:1",
                    frame_rate=None if common_rate is not None else t.frame_rate,
                    segment_template=template,
                )
                for t, template in zip(videos, rep_templates, strict=True)
            ),
        )
    )
    for j, rendition in enumerate(audio, start=1):
        track = rendition.track
        template = _track_template(track, media=media_template, initialization=init_template)
        sets.append(
            AdaptationSet(
                id=j,
                content_type=ContentType.AUDIO,
                mime_type="audio/mp4",
                lang=rendition.language,
                labels=(rendition.name,),
                roles=(Role(rendition.role),),
                content_protection=tuple(protection),
                segment_template=template,
                representations=(
                    Representation(
                        id=track.rep_id,
                        bandwidth=track.peak_bitrate,
                        codecs=track.codecs,
                        audio_sampling_rate=track.sample_rate,
                        audio_channels=track.channels,
                    ),
                ),
            )
        )
    duration_s = max(t.duration_s for t in tracks)
    longest_s = max(s.duration_s for t in tracks for s in t.segments)
    profiles = (PROFILE_ISOFF_LIVE, PROFILE_CMAF) if cmaf else (PROFILE_ISOFF_LIVE,)
    return Presentation(
        periods=(Period(id="0", start_s=0.0, adaptation_sets=tuple(sets)),),
        type=PresentationType.STATIC,
        profiles=profiles,
        # @bandwidth is each track's peak segment rate, so one longest segment of
        # buffer is enough for continuous play at that rate.
        min_buffer_time_s=math.ceil(longest_s * 1000) / 1000,
        media_presentation_duration_s=duration_s,
        max_segment_duration_s=math.ceil(longest_s * 1000) / 1000,
    )
