"""Our DASH MPD: a small presentation model and its ISO/IEC 23009-1 rendering.

A :class:`Presentation` holds one or more :class:`Period` s of
:class:`AdaptationSet` s (video, audio, text, image), each with its
:class:`Representation` s, segment addressing (``SegmentTemplate`` with or
without a ``SegmentTimeline``, or a single ``BaseURL`` file) and optional
``ContentProtection``. ``static`` (VOD) and ``dynamic`` (live) presentations
render from the same model. Children are written in the schema's sequence
order; :func:`render_mpd` refuses a model the schema or a player would reject.

:func:`reelstack.media.mpd_vod.vod_presentation` builds the static presentation
of a packaged title from measured tracks.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from fractions import Fraction
from uuid import UUID

MPD_NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
CENC_NAMESPACE = "urn:mpeg:cenc:2013"
PROFILE_ISOFF_LIVE = "urn:mpeg:dash:profile:isoff-live:2011"
PROFILE_CMAF = "urn:mpeg:dash:profile:cmaf:2019"
ROLE_SCHEME = "urn:mpeg:dash:role:2011"
AUDIO_CHANNEL_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
THUMBNAIL_TILE_SCHEME = "http://dashif.org/thumbnail_tile"
CENC_SCHEME = "urn:mpeg:dash:mp4protection:2011"
CLEARKEY_SYSTEM = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
CLEARKEY_NAMESPACE = "http://dashif.org/guidelines/clearKey"


class PresentationType(StrEnum):
    """``static``: every segment exists (VOD). ``dynamic``: segments appear over time (live)."""

    STATIC = "static"
    DYNAMIC = "dynamic"


class ContentType(StrEnum):
    """An AdaptationSet's ``contentType``."""

    VIDEO = "video"
    AUDIO = "audio"
    TEXT = "text"
    IMAGE = "image"


class Role(StrEnum):
    """Values of the ``urn:mpeg:dash:role:2011`` scheme that we write."""

    MAIN = "main"
    ALTERNATE = "alternate"
    COMMENTARY = "commentary"
    SUBTITLE = "subtitle"
    CAPTION = "caption"
    DUB = "dub"
    DESCRIPTION = "description"


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A DASH descriptor (``schemeIdUri`` + ``value``): Role, EssentialProperty..."""

    scheme_id_uri: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class ForeignElement:
    """An element of another namespace inside ContentProtection (e.g. ``clearkey:Laurl``)."""

    namespace: str
    prefix: str
    name: str
    text: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ContentProtection:
    """One ``ContentProtection``: the ``mp4protection`` scheme or a DRM system's UUID."""

    scheme_id_uri: str
    value: str | None = None
    default_kid: UUID | None = None
    children: tuple[ForeignElement, ...] = ()


def cenc_protection(default_kid: UUID, *, scheme: str = "cenc") -> ContentProtection:
    """The ``mp4protection`` descriptor (``cenc`` or ``cbcs``) with the default key id."""
    return ContentProtection(CENC_SCHEME, value=scheme, default_kid=default_kid)


def clearkey_protection(
    license_url: str | None, default_kid: UUID | None = None
) -> ContentProtection:
    """The W3C ClearKey system with its licence server URL (DASH-IF ``Laurl``); None
    leaves the URL to the player (a per-session URL never goes into a shared MPD)."""
    children: tuple[ForeignElement, ...] = ()
    if license_url is not None:
        children = (
            ForeignElement(
                CLEARKEY_NAMESPACE, "clearkey", "Laurl", license_url, (("Lic_type", "EME-1.0"),)
            ),
        )
    return ContentProtection(
        CLEARKEY_SYSTEM, value="ClearKey1.0", default_kid=default_kid, children=children
    )


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One ``S``: ``repeat + 1`` segments of ``duration`` ticks, from ``start`` when given."""

    duration: int
    repeat: int = 0
    start: int | None = None


def timeline(segments: Iterable[tuple[int, int]]) -> tuple[TimelineEntry, ...]:
    """Run-length ``S`` entries for (start, duration) pairs in ticks.

    ``t`` is written on the first entry and wherever a segment does not start
    where the previous one ended; equal, contiguous durations share one entry.
    """
    entries: list[TimelineEntry] = []
    expected: int | None = None
    for start, duration in segments:
        if duration <= 0:
            raise ValueError(f"segment duration must be positive, got {duration}")
        last = entries[-1] if entries else None
        if last is not None and start == expected and last.duration == duration:
            entries[-1] = TimelineEntry(duration, last.repeat + 1, last.start)
        else:
            entries.append(TimelineEntry(duration, 0, None if start == expected else start))
        expected = start + duration
    return tuple(entries)


@dataclass(frozen=True, slots=True)
class SegmentTemplate:
    """``SegmentTemplate`` addressing: a ``timeline``, or a fixed ``duration`` per segment."""

    media: str
    timescale: int
    initialization: str | None = None
    start_number: int = 1
    timeline: tuple[TimelineEntry, ...] = ()
    duration: int | None = None
    presentation_time_offset: int = 0

    @property
    def timeline_ticks(self) -> int:
        """Total duration covered by the timeline, in ticks."""
        return sum(e.duration * (e.repeat + 1) for e in self.timeline)


@dataclass(frozen=True, slots=True)
class Representation:
    """One encoding. ``bandwidth`` is bits/s; absent attributes are inherited from the set."""

    id: str
    bandwidth: int
    codecs: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    sar: str | None = None
    frame_rate: Fraction | None = None
    audio_sampling_rate: int | None = None
    audio_channels: int | None = None
    essential_properties: tuple[Descriptor, ...] = ()
    supplemental_properties: tuple[Descriptor, ...] = ()
    base_url: str | None = None
    segment_template: SegmentTemplate | None = None


@dataclass(frozen=True, slots=True)
class AdaptationSet:
    """A set of interchangeable Representations of one content type (and language)."""

    id: int
    content_type: ContentType
    mime_type: str
    representations: tuple[Representation, ...]
    codecs: str | None = None
    lang: str | None = None
    labels: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()
    accessibility: tuple[Descriptor, ...] = ()
    content_protection: tuple[ContentProtection, ...] = ()
    essential_properties: tuple[Descriptor, ...] = ()
    supplemental_properties: tuple[Descriptor, ...] = ()
    segment_template: SegmentTemplate | None = None
    segment_alignment: bool = True
    start_with_sap: int | None = 1
    par: str | None = None
    frame_rate: Fraction | None = None
    audio_channels: int | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """A span of the presentation; ``start_s`` from the presentation start."""

    id: str
    adaptation_sets: tuple[AdaptationSet, ...]
    start_s: float | None = 0.0
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class Presentation:
    """The whole MPD. ``static`` needs ``media_presentation_duration_s``;
    ``dynamic`` needs ``availability_start_time`` (and takes the live timing fields)."""

    periods: tuple[Period, ...]
    type: PresentationType = PresentationType.STATIC
    profiles: tuple[str, ...] = (PROFILE_ISOFF_LIVE,)
    min_buffer_time_s: float = 2.0
    media_presentation_duration_s: float | None = None
    max_segment_duration_s: float | None = None
    availability_start_time: datetime | None = None
    publish_time: datetime | None = None
    minimum_update_period_s: float | None = None
    time_shift_buffer_depth_s: float | None = None
    suggested_presentation_delay_s: float | None = None
    utc_timing: tuple[Descriptor, ...] = ()


# --- Rendering -----------------------------------------------------------------------


def iso_duration(seconds: float) -> str:
    """An ``xs:duration`` (``PT1H2M3.5S``), to the millisecond."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"duration must be finite and >= 0, got {seconds}")
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs = f"{millis / 1000:.3f}".rstrip("0").rstrip(".")
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs != "0" or out == "PT":
        out += f"{secs}S"
    return out


def _datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("MPD times must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rate(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _set(element: ET.Element, name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        element.set(name, "true" if value else "false")
    elif isinstance(value, Fraction):
        element.set(name, _rate(value))
    else:
        element.set(name, str(value))


def _descriptor(parent: ET.Element, tag: str, descriptor: Descriptor) -> None:
    element = ET.SubElement(parent, tag)
    element.set("schemeIdUri", descriptor.scheme_id_uri)
    _set(element, "value", descriptor.value)


def _protection(parent: ET.Element, protection: ContentProtection) -> None:
    element = ET.SubElement(parent, "ContentProtection")
    element.set("schemeIdUri", protection.scheme_id_uri)
    _set(element, "value", protection.value)
    if protection.default_kid is not None:
        element.set("cenc:default_KID", str(protection.default_kid))
    declared: dict[str, str] = {}
    for child in protection.children:
        if declared.setdefault(child.prefix, child.namespace) != child.namespace:
            raise ValueError(f"prefix {child.prefix!r} bound to two namespaces")
        element.set(f"xmlns:{child.prefix}", child.namespace)
        sub = ET.SubElement(element, f"{child.prefix}:{child.name}")
        for name, value in child.attributes:
            sub.set(name, value)
        sub.text = child.text


def _segment_template(parent: ET.Element, template: SegmentTemplate) -> None:
    if template.timescale <= 0:
        raise ValueError("SegmentTemplate timescale must be positive")
    if bool(template.timeline) == (template.duration is not None):
        raise ValueError("SegmentTemplate needs exactly one of a timeline or a duration")
    element = ET.SubElement(parent, "SegmentTemplate")
    element.set("timescale", str(template.timescale))
    if template.presentation_time_offset:
        element.set("presentationTimeOffset", str(template.presentation_time_offset))
    _set(element, "duration", template.duration)
    element.set("startNumber", str(template.start_number))
    _set(element, "initialization", template.initialization)
    element.set("media", template.media)
    if template.timeline:
        timeline_el = ET.SubElement(element, "SegmentTimeline")
        for entry in template.timeline:
            s = ET.SubElement(timeline_el, "S")
            _set(s, "t", entry.start)
            s.set("d", str(entry.duration))
            if entry.repeat:
                s.set("r", str(entry.repeat))


def _channels(parent: ET.Element, channels: int | None) -> None:
    if channels is not None:
        _descriptor(
            parent, "AudioChannelConfiguration", Descriptor(AUDIO_CHANNEL_SCHEME, str(channels))
        )


def _representation(parent: ET.Element, rep: Representation, aset: AdaptationSet) -> None:
    if not rep.id or any(c.isspace() for c in rep.id):
        raise ValueError(f"invalid Representation id {rep.id!r}")
    if rep.bandwidth <= 0:
        raise ValueError(f"Representation {rep.id} needs a positive bandwidth")
    if rep.segment_template is None and aset.segment_template is None and rep.base_url is None:
        raise ValueError(f"Representation {rep.id} has no segment addressing")
    element = ET.SubElement(parent, "Representation")
    element.set("id", rep.id)
    element.set("bandwidth", str(rep.bandwidth))
    _set(element, "width", rep.width)
    _set(element, "height", rep.height)
    _set(element, "sar", rep.sar)
    _set(element, "frameRate", rep.frame_rate)
    _set(element, "audioSamplingRate", rep.audio_sampling_rate)
    _set(element, "mimeType", rep.mime_type)
    _set(element, "codecs", rep.codecs)
    # RepresentationBaseType sequence, then RepresentationType's own.
    _channels(element, rep.audio_channels)
    for prop in rep.essential_properties:
        _descriptor(element, "EssentialProperty", prop)
    for prop in rep.supplemental_properties:
        _descriptor(element, "SupplementalProperty", prop)
    if rep.base_url is not None:
        ET.SubElement(element, "BaseURL").text = rep.base_url
    if rep.segment_template is not None:
        _segment_template(element, rep.segment_template)


def _adaptation_set(parent: ET.Element, aset: AdaptationSet) -> None:
    if not aset.representations:
        raise ValueError(f"AdaptationSet {aset.id} has no Representation")
    element = ET.SubElement(parent, "AdaptationSet")
    element.set("id", str(aset.id))
    element.set("contentType", str(aset.content_type))
    _set(element, "lang", aset.lang)
    _set(element, "par", aset.par)
    widths = [r.width for r in aset.representations if r.width]
    heights = [r.height for r in aset.representations if r.height]
    if aset.content_type is ContentType.VIDEO and widths and heights:
        _set(element, "maxWidth", max(widths))
        _set(element, "maxHeight", max(heights))
    _set(element, "frameRate", aset.frame_rate)
    if aset.segment_alignment:
        element.set("segmentAlignment", "true")
    _set(element, "startWithSAP", aset.start_with_sap)
    element.set("mimeType", aset.mime_type)
    _set(element, "codecs", aset.codecs)
    # RepresentationBaseType sequence (Label last), then AdaptationSetType's own.
    _channels(element, aset.audio_channels)
    for protection in aset.content_protection:
        _protection(element, protection)
    for prop in aset.essential_properties:
        _descriptor(element, "EssentialProperty", prop)
    for prop in aset.supplemental_properties:
        _descriptor(element, "SupplementalProperty", prop)
    for label in aset.labels:
        ET.SubElement(element, "Label").text = label
    for descriptor in aset.accessibility:
        _descriptor(element, "Accessibility", descriptor)
    for role in aset.roles:
        _descriptor(element, "Role", Descriptor(ROLE_SCHEME, str(role)))
    if aset.segment_template is not None:
        _segment_template(element, aset.segment_template)
    for rep in aset.representations:
        _representation(element, rep, aset)


def _period(parent: ET.Element, period: Period) -> None:
    element = ET.SubElement(parent, "Period")
    element.set("id", period.id)
    if period.start_s is not None:
        element.set("start", iso_duration(period.start_s))
    if period.duration_s is not None:
        element.set("duration", iso_duration(period.duration_s))
    set_ids = [a.id for a in period.adaptation_sets]
    if len(set(set_ids)) != len(set_ids):
        raise ValueError(f"Period {period.id}: AdaptationSet ids repeat")
    rep_ids = [r.id for a in period.adaptation_sets for r in a.representations]
    if len(set(rep_ids)) != len(rep_ids):
        raise ValueError(f"Period {period.id}: Representation ids repeat")
    for aset in period.adaptation_sets:
        _adaptation_set(element, aset)


def _check(presentation: Presentation) -> None:
    if not presentation.periods:
        raise ValueError("a presentation needs at least one Period")
    if not presentation.profiles:
        raise ValueError("a presentation needs at least one profile")
    if len({p.id for p in presentation.periods}) != len(presentation.periods):
        raise ValueError("Period ids repeat")
    if presentation.type is PresentationType.STATIC:
        if presentation.media_presentation_duration_s is None:
            raise ValueError("a static MPD needs mediaPresentationDuration")
    else:
        if presentation.availability_start_time is None:
            raise ValueError("a dynamic MPD needs availabilityStartTime")
        if presentation.publish_time is None:
            raise ValueError("a dynamic MPD needs publishTime")
    starts = [p.start_s for p in presentation.periods if p.start_s is not None]
    if starts != sorted(starts):
        raise ValueError("Periods must be in start order")


def render_mpd(presentation: Presentation) -> str:
    """The MPD document for ``presentation`` (UTF-8 XML text, indented)."""
    _check(presentation)
    root = ET.Element("MPD")
    root.set("xmlns", MPD_NAMESPACE)
    uses_cenc = any(
        cp.default_kid is not None
        for period in presentation.periods
        for aset in period.adaptation_sets
        for cp in aset.content_protection
    )
    if uses_cenc:
        root.set("xmlns:cenc", CENC_NAMESPACE)
    root.set("profiles", ",".join(presentation.profiles))
    root.set("type", str(presentation.type))
    if presentation.availability_start_time is not None:
        root.set("availabilityStartTime", _datetime(presentation.availability_start_time))
    if presentation.publish_time is not None:
        root.set("publishTime", _datetime(presentation.publish_time))
    for name, seconds in (
        ("mediaPresentationDuration", presentation.media_presentation_duration_s),
        ("minimumUpdatePeriod", presentation.minimum_update_period_s),
        ("minBufferTime", presentation.min_buffer_time_s),
        ("timeShiftBufferDepth", presentation.time_shift_buffer_depth_s),
        ("suggestedPresentationDelay", presentation.suggested_presentation_delay_s),
        ("maxSegmentDuration", presentation.max_segment_duration_s),
    ):
        if seconds is not None:
            root.set(name, iso_duration(seconds))
    for period in presentation.periods:
        _period(root, period)
    for timing in presentation.utc_timing:
        _descriptor(root, "UTCTiming", timing)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
