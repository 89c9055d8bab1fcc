"""Dates in an XMP packet, embedded in the file or in a sidecar next to it."""

import xml.etree.ElementTree as ET

NAMESPACES = {
    "exif": "http://ns.adobe.com/exif/1.0/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
}
RDF_LI = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li"

# The properties we read, strongest first; each is "prefix:Name" as the evidence names it.
PROPERTIES = ("exif:DateTimeOriginal", "xmp:CreateDate", "photoshop:DateCreated")
_QUALIFIED = {
    "{%s}%s" % (NAMESPACES[prefix], local): f"{prefix}:{local}"
    for prefix, local in (name.split(":") for name in PROPERTIES)
}

# Sidecars are read whole; a real one is a few kilobytes.
MAX_PACKET = 4 * 1024 * 1024


def xmp_dates(packet: bytes | str) -> tuple[dict[str, str], str]:
    """({"exif:DateTimeOriginal": "2020-04-17T10:03:42", ...}, problem).

    Properties may be written as attributes or as elements (possibly wrapping an rdf:Alt/Seq);
    the first value found for each wins."""
    if isinstance(packet, str):
        packet = packet.encode("utf-8", "replace")
    packet = packet.strip(b"\x00 \t\r\n")
    if len(packet) > MAX_PACKET:
        return {}, "XMP packet too large"
    # XMP never declares a document type; refusing one shuts out entity-expansion bombs.
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        return {}, "XMP packet declares a document type"
    try:
        root = ET.fromstring(packet)
    except ET.ParseError as e:
        return {}, f"XMP is not well-formed: {e}"
    found: dict[str, str] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if key in _QUALIFIED and value.strip():
                found.setdefault(_QUALIFIED[key], value)
        if element.tag in _QUALIFIED:
            text = element.text or ""
            if not text.strip():
                item = next(element.iter(RDF_LI), None)
                text = (item.text or "") if item is not None else ""
            if text.strip():
                found.setdefault(_QUALIFIED[element.tag], text)
    return found, ""
