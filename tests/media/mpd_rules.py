"""Rules players rely on, checked on any MPD we write.

The MPD is read twice: by ``mpegdash`` (an independent parser from PyPI) for
attributes and values, and by ElementTree for the schema's element order, which
``mpegdash`` does not keep. :func:`mpd_problems` lists every broken rule;
:func:`check_mpd` fails a test with them. With ``base`` (the directory the MPD
sits in), segment files are opened too: @bandwidth must equal the measured peak
and init segments must carry the CMAF brand when the CMAF profile is claimed.
"""

from __future__ import annotations

import math
import re
import struct
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Any

from mpegdash.parser import MPEGDASHParser

NS = "{urn:mpeg:dash:schema:mpd:2011}"
CMAF_PROFILE = "urn:mpeg:dash:profile:cmaf:2019"
ROLES = {
    "caption", "subtitle", "main", "alternate", "supplementary", "commentary", "dub",
    "description", "sign", "metadata", "enhanced-audio-intelligibility", "emergency",
    "forced-subtitle", "easyreader", "karaoke",
}  # fmt: skip

# ISO/IEC 23009-1 sequence order of the children we may write, per element type.
_REPRESENTATION_BASE = [
    "FramePacking", "AudioChannelConfiguration", "ContentProtection", "OutputProtection",
    "EssentialProperty", "SupplementalProperty", "InbandEventStream", "Switching",
    "RandomAccess", "GroupLabel", "Label", "ProducerReferenceTime",
    "ContentPopularityRate", "Resync",
]  # fmt: skip
ORDER = {
    "MPD": [
        "ProgramInformation", "BaseURL", "Location", "PatchLocation", "ServiceDescription",
        "InitializationSet", "InitializationGroup", "InitializationPresentation",
        "ContentProtection", "Period", "Metrics", "EssentialProperty",
        "SupplementalProperty", "UTCTiming", "LeapSecondInformation",
    ],
    "Period": [
        "BaseURL", "SegmentBase", "SegmentList", "SegmentTemplate", "AssetIdentifier",
        "EventStream", "ServiceDescription", "ContentProtection", "AdaptationSet", "Subset",
        "SupplementalProperty", "EmptyAdaptationSet", "GroupLabel", "Preselection",
    ],
    "AdaptationSet": [
        *_REPRESENTATION_BASE, "Accessibility", "Role", "Rating", "Viewpoint",
        "ContentComponent", "BaseURL", "SegmentBase", "SegmentList", "SegmentTemplate",
        "Representation",
    ],
    "Representation": [
        *_REPRESENTATION_BASE, "BaseURL", "ExtendedBandwidth", "SubRepresentation",
        "SegmentBase", "SegmentList", "SegmentTemplate",
    ],
    "SegmentTemplate": [
        "Initialization", "RepresentationIndex", "FailoverContent", "SegmentTimeline",
        "BitstreamSwitching",
    ],
    "SegmentTimeline": ["S"],
}  # fmt: skip

CODECS = [
    re.compile(r"avc[13]\.[0-9A-Fa-f]{6}"),  # avc1.PPCCLL
    re.compile(r"mp4a\.40\.(2|5|29)"),  # AAC-LC, HE-AAC, HE-AACv2
    re.compile(r"(hvc1|hev1)\.[A-C]?\d+\.[0-9A-Fa-f]+\.[LH]\d+(\.[0-9A-Fa-f]{1,2}){0,6}"),
    re.compile(r"ec-3|ac-3|opus|flac|wvtt|stpp(\.ttml\.im1t)?|jpeg|png"),
]
_DURATION_RE = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
_NUMBER_RE = re.compile(r"\$Number(%0(\d+)d)?\$")


def seconds(value: str | None) -> float | None:
    """An ``xs:duration`` as we write them (PTnHnMnS) in seconds; None when absent."""
    if value is None:
        return None
    match = _DURATION_RE.match(value)
    if match is None or value == "PT":
        raise ValueError(f"not an xs:duration: {value!r}")
    h, m, s = match.groups()
    return int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)


def expand(template: str, rep_id: str, number: int, time: int) -> str:
    out = template.replace("$RepresentationID$", rep_id).replace("$Time$", str(time))

    def repl(match: re.Match[str]) -> str:
        return f"{number:0{int(match.group(2))}d}" if match.group(2) else str(number)

    return _NUMBER_RE.sub(repl, out).replace("$$", "$")


def ftyp_brands(path: Path) -> list[str]:
    """Major and compatible brands of the ``ftyp`` box opening an init segment."""
    data = path.read_bytes()
    size, kind = struct.unpack(">I4s", data[:8])
    assert kind == b"ftyp", f"{path.name} starts with {kind!r}, not ftyp"
    body = data[8:size]
    return [body[0:4].decode(), *(body[i : i + 4].decode() for i in range(8, len(body), 4))]


def _order_problems(element: ET.Element, where: str) -> list[str]:
    problems = []
    name = element.tag.removeprefix(NS)
    order = ORDER.get(name)
    if order is not None:
        last = -1
        for child in element:
            if not isinstance(child.tag, str) or not child.tag.startswith(NS):
                continue  # other namespaces (cenc:pssh, clearkey:Laurl)
            child_name = child.tag.removeprefix(NS)
            if child_name not in order:
                problems.append(f"{where}: unexpected <{child_name}> in <{name}>")
                continue
            index = order.index(child_name)
            if index < last:
                problems.append(f"{where}: <{child_name}> after <{order[last]}> in <{name}>")
            last = max(last, index)
    for k, child in enumerate(element):
        if isinstance(child.tag, str) and child.tag.startswith(NS):
            problems += _order_problems(child, f"{where}/{child.tag.removeprefix(NS)}[{k}]")
    return problems


def _switching_problems(root: ET.Element) -> list[str]:
    """bitstreamSwitching="true" is false when each Representation has its own init."""
    problems = []
    for aset in root.iter(f"{NS}AdaptationSet"):
        if aset.get("bitstreamSwitching") != "true":
            continue
        inits = [t.get("initialization") for t in aset.iter(f"{NS}SegmentTemplate")]
        if any(i is None or "$RepresentationID$" in i for i in inits) or len(set(inits)) > 1:
            problems.append(f"AdaptationSet {aset.get('id')}: false bitstreamSwitching claim")
    return problems


def _template(rep: Any, aset: Any, period: Any) -> Any:
    for owner in (rep, aset, period):
        templates = getattr(owner, "segment_templates", None)
        if templates:
            return templates[0]
    return None


def _timeline(template: Any) -> list[tuple[int, int]]:
    """(start, duration) of every segment of a SegmentTimeline."""
    out: list[tuple[int, int]] = []
    at = template.presentation_time_offset or 0
    for s in template.segment_timelines[0].Ss:
        if s.t is not None:
            at = s.t
        for _ in range((s.r or 0) + 1):
            out.append((at, s.d))
            at += s.d
    return out


def mpd_problems(text: str, *, base: Path | None = None) -> list[str]:
    """Every rule ``text`` breaks (empty when it is fine)."""
    root = ET.fromstring(text)
    problems = _order_problems(root, "MPD") + _switching_problems(root)
    mpd = MPEGDASHParser.parse(text)
    static = (mpd.type or "static") == "static"
    profiles = (mpd.profiles or "").split(",")
    if not mpd.profiles:
        problems.append("MPD@profiles missing")
    if mpd.min_buffer_time is None:
        problems.append("MPD@minBufferTime missing")
    if static and mpd.media_presentation_duration is None:
        problems.append("static MPD without @mediaPresentationDuration")
    if not static:
        if mpd.availability_start_time is None:
            problems.append("dynamic MPD without @availabilityStartTime")
        if mpd.publish_time is None:
            problems.append("dynamic MPD without @publishTime")
    total_s = seconds(mpd.media_presentation_duration)
    if not mpd.periods:
        return [*problems, "MPD has no Period"]

    period_starts = [seconds(p.start) for p in mpd.periods]
    for k, period in enumerate(mpd.periods):
        where = f"Period {period.id}"
        duration_s = seconds(period.duration)
        if duration_s is None and k + 1 < len(mpd.periods):
            start, following = period_starts[k], period_starts[k + 1]
            if start is not None and following is not None:
                duration_s = following - start
        if duration_s is None and total_s is not None:
            duration_s = total_s - (period_starts[k] or 0)
        rep_ids: list[str] = []
        set_ids = [a.id for a in period.adaptation_sets or []]
        if len(set(set_ids)) != len(set_ids):
            problems.append(f"{where}: AdaptationSet ids repeat: {set_ids}")
        for aset in period.adaptation_sets or []:
            problems += _set_problems(aset, period, where, duration_s, static, profiles, base)
            rep_ids += [r.id for r in aset.representations or []]
        if len(set(rep_ids)) != len(rep_ids):
            problems.append(f"{where}: Representation ids repeat: {rep_ids}")
    return problems


def _set_problems(
    aset: Any,
    period: Any,
    where: str,
    duration_s: float | None,
    static: bool,
    profiles: list[str],
    base: Path | None,
) -> list[str]:
    problems: list[str] = []
    where = f"{where}/AdaptationSet {aset.id}"
    reps = aset.representations or []
    if not reps:
        problems.append(f"{where}: no Representation")
    content = aset.content_type or (aset.mime_type or reps[0].mime_type or "").split("/")[0]
    if content in ("video", "audio") and not aset.segment_alignment:
        problems.append(f"{where}: segmentAlignment missing on a {content} set")
    for role in aset.roles or []:
        if role.scheme_id_uri == "urn:mpeg:dash:role:2011" and role.value not in ROLES:
            problems.append(f"{where}: unknown Role {role.value!r}")
    for rep in reps:
        rwhere = f"{where}/Representation {rep.id}"
        if not rep.id or re.search(r"\s", rep.id):
            problems.append(f"{rwhere}: @id missing or has whitespace")
        if not rep.bandwidth or rep.bandwidth <= 0:
            problems.append(f"{rwhere}: @bandwidth missing")
        mime = rep.mime_type or aset.mime_type
        codecs = rep.codecs or aset.codecs
        if not mime:
            problems.append(f"{rwhere}: @mimeType missing")
        isobmff = (mime or "").endswith("/mp4")
        if isobmff and not codecs:
            problems.append(f"{rwhere}: @codecs missing")
        for codec in (codecs or "").split(",") if codecs else []:
            if not any(p.fullmatch(codec.strip()) for p in CODECS):
                problems.append(f"{rwhere}: malformed codecs {codec!r}")
        if content == "video" and not (rep.width or aset.max_width):
            problems.append(f"{rwhere}: video without @width")
        rate = rep.frame_rate or aset.frame_rate
        if rate is not None and Fraction(rate) <= 0:
            problems.append(f"{rwhere}: bad @frameRate {rate}")
        template = _template(rep, aset, period)
        if template is None:
            if not rep.base_urls:
                problems.append(f"{rwhere}: no SegmentTemplate and no BaseURL")
            continue
        problems += _template_problems(
            template, rep, rwhere, duration_s, static, base, check_bandwidth=isobmff
        )
        if base is not None and CMAF_PROFILE in profiles and template.initialization:
            init = base / expand(template.initialization, rep.id, 0, 0)
            if "cmfc" not in ftyp_brands(init):
                problems.append(f"{rwhere}: CMAF profile but {init.name} lacks the cmfc brand")
    return problems


def _template_problems(
    template: Any,
    rep: Any,
    where: str,
    duration_s: float | None,
    static: bool,
    base: Path | None,
    *,
    check_bandwidth: bool,
) -> list[str]:
    problems: list[str] = []
    timescale = template.timescale or 1
    if not template.media:
        problems.append(f"{where}: SegmentTemplate@media missing")
        return problems
    if not template.segment_timelines:
        if not template.duration:
            problems.append(f"{where}: SegmentTemplate without timeline or @duration")
        return problems
    entries = template.segment_timelines[0].Ss or []
    if not entries:
        return [*problems, f"{where}: empty SegmentTimeline"]
    for k, s in enumerate(entries):
        if not s.d or s.d <= 0:
            problems.append(f"{where}: S[{k}] without a positive @d")
        if s.r is not None and (s.r < -1 or (s.r == -1 and (static or k + 1 < len(entries)))):
            problems.append(f"{where}: S[{k}] has @r={s.r}")
        if k and s.t is not None:
            previous = _timeline_end(entries[:k], template)
            if s.t != previous:
                kind = "gap" if s.t > previous else "overlap"
                problems.append(f"{where}: {kind} before S[{k}] (t={s.t}, expected {previous})")
    segments = _timeline(template)
    offset = template.presentation_time_offset or 0
    longest = max(d for _, d in segments)
    if segments[0][0] - offset > longest:
        problems.append(f"{where}: timeline starts {segments[0][0] - offset} ticks late")
    if static and duration_s is not None:
        total = segments[-1][0] + segments[-1][1] - offset
        if abs(total / timescale - duration_s) > longest / timescale:
            problems.append(
                f"{where}: timeline covers {total / timescale:.3f}s, period {duration_s:.3f}s"
            )
    if base is not None and check_bandwidth:
        number = template.start_number if template.start_number is not None else 1
        peak = Fraction(0)
        for k, (start, duration) in enumerate(segments):
            path = base / expand(template.media, rep.id, number + k, start)
            if not path.is_file():
                problems.append(f"{where}: segment {path.name} missing")
                continue
            peak = max(peak, Fraction(path.stat().st_size * 8 * timescale, duration))
        if rep.bandwidth != math.ceil(peak):
            problems.append(
                f"{where}: @bandwidth {rep.bandwidth} != measured peak {math.ceil(peak)}"
            )
    return problems


def _timeline_end(entries: list[Any], template: Any) -> int:
    at = template.presentation_time_offset or 0
    for s in entries:
        if s.t is not None:
            at = s.t
        at += s.d * ((s.r or 0) + 1)
    return int(at)


def check_mpd(text: str, *, base: Path | None = None) -> None:
    """Fail with every broken rule of ``text``."""
    problems = mpd_problems(text, base=base)
    assert not problems, "MPD breaks rules:\n" + "\n".join(problems)


def check_published_mpd(mpd_path: Path) -> None:
    """The rules on a packaged title's MPD, its segments included; the only MPD
    published is ours (FFmpeg's scratch one is gone) and every init segment is CMAF."""
    out = mpd_path.parent
    text = mpd_path.read_text(encoding="utf-8")
    check_mpd(text, base=out)
    assert sorted(p.name for p in out.glob("*.mpd")) == [mpd_path.name]
    inits = sorted(out.glob("init-*.m4s"))
    assert inits
    for init in inits:
        assert "cmfc" in ftyp_brands(init), f"{init.name}: {ftyp_brands(init)}"
    assert CMAF_PROFILE in (MPEGDASHParser.parse(text).profiles or "").split(",")
