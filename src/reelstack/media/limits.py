"""Manifests for one playback session: renditions above a height left out.

A plan's maximum resolution must really limit what a player can fetch a manifest for,
so the session gets its own master playlist and MPD, derived from the published ones:
variants taller than the limit are dropped (the shortest one is kept if every variant is
taller, so a manifest never ends up empty) and relative URIs are anchored to the
version's media path, since the session manifest is served from another path.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

_RESOLUTION = re.compile(r"RESOLUTION=(\d+)x(\d+)")
_URI_ATTR = re.compile(r'URI="([^"]*)"')
_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/)", re.IGNORECASE)


def _anchor(uri: str, base: str) -> str:
    return uri if _ABSOLUTE.match(uri) else base + uri


def limit_hls_master(text: str, *, max_height: int, base: str) -> str:
    """The master playlist without variants taller than ``max_height``.

    ``base`` is the absolute path (ending in ``/``) the relative URIs resolve against.
    """
    lines = text.splitlines()
    # Pair each EXT-X-STREAM-INF with the URI line after it.
    variants: list[tuple[int, int, int]] = []  # (height, tag index, uri index)
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            match = _RESOLUTION.search(line)
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j].startswith("#")):
                j += 1
            height = int(match.group(2)) if match else 0
            variants.append((height, i, j))
    keep = [v for v in variants if v[0] <= max_height] or sorted(variants)[:1]
    dropped = {index for v in variants if v not in keep for index in (v[1], v[2])}
    out = []
    uri_lines = {v[2] for v in variants}
    for i, line in enumerate(lines):
        if i in dropped:
            continue
        if i in uri_lines:
            line = _anchor(line.strip(), base)
        elif line.startswith("#") and 'URI="' in line:
            line = _URI_ATTR.sub(lambda m: f'URI="{_anchor(m.group(1), base)}"', line)
        out.append(line)
    return "\n".join(out) + "\n"


def limit_mpd(text: str, *, max_height: int, base: str) -> str:
    """The MPD without video Representations taller than ``max_height``, with a
    ``BaseURL`` of ``base`` so its relative segment templates keep resolving."""
    namespaces = dict(node for _, node in ET.iterparse(io.StringIO(text), events=["start-ns"]))
    for prefix, uri in namespaces.items():
        ET.register_namespace(prefix, uri)
    root = ET.fromstring(text)
    ns = namespaces.get("", "")
    q = (lambda tag: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
    for adaptation in root.iter(q("AdaptationSet")):
        reps = adaptation.findall(q("Representation"))
        tall = [r for r in reps if int(r.get("height", "0")) > max_height]
        if not tall:
            continue
        if len(tall) == len(reps):
            tall.remove(min(tall, key=lambda r: int(r.get("height", "0"))))
        for rep in tall:
            adaptation.remove(rep)
        kept = adaptation.findall(q("Representation"))
        for attr, key in (("maxHeight", "height"), ("maxWidth", "width")):
            if adaptation.get(attr) is not None:
                adaptation.set(attr, str(max(int(r.get(key, "0")) for r in kept)))
        if adaptation.get("maxBandwidth") is not None:
            adaptation.set("maxBandwidth", str(max(int(r.get("bandwidth", "0")) for r in kept)))
    position = sum(1 for child in root if child.tag == q("ProgramInformation"))
    base_url = ET.Element(q("BaseURL"))
    base_url.text = base
    root.insert(position, base_url)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"
