"""What an uploaded voice message is: its audio type and duration, read from the content.

mutagen reads MP3, Ogg (Opus/Vorbis), MP4/M4A, WAV, FLAC and others. Browsers' MediaRecorder usually
writes WebM, which mutagen does not read and which often carries no duration: for WebM the duration is the
last block's timestamp, found by walking the EBML structure (Segment > Cluster > Timecode + SimpleBlock).
"""

from __future__ import annotations

import struct

import mutagen

WEBM_MAGIC = b"\x1a\x45\xdf\xa3"
SEGMENT, CLUSTER, INFO = 0x18538067, 0x1F43B675, 0x1549A966
TIMECODE, SIMPLE_BLOCK, BLOCK_GROUP, BLOCK = 0xE7, 0xA3, 0xA0, 0xA1
TIMECODE_SCALE, DURATION = 0x2AD7B1, 0x4489
MAX_ELEMENTS = 2_000_000


def probe(reader) -> tuple[str | None, float | None]:
    """``(audio MIME type, duration in seconds)`` or ``(None, None)`` if this is not audio we understand."""
    reader.seek(0)
    head = reader.read(4)
    reader.seek(0)
    if head == WEBM_MAGIC:
        return "audio/webm", _webm_duration(reader)
    try:
        found = mutagen.File(reader)
    except Exception:  # noqa: BLE001 - any parse failure means: not audio we can read
        return None, None
    if found is None or not getattr(found, "info", None):
        return None, None
    mime = next((m for m in getattr(found, "mime", []) if m.startswith("audio/")), None) or "audio/mpeg"
    length = getattr(found.info, "length", None)
    return mime, float(length) if length else None


def _read_vint(reader, *, strip_marker: bool) -> tuple[int | None, int]:
    first = reader.read(1)
    if not first:
        return None, 0
    byte = first[0]
    length = 1
    mask = 0x80
    while length <= 8 and not byte & mask:
        mask >>= 1
        length += 1
    if length > 8:
        raise ValueError("bad EBML variable-size integer")
    rest = reader.read(length - 1)
    value = (byte & (mask - 1)) if strip_marker else byte
    for b in rest:
        value = (value << 8) | b
    if strip_marker and value == (1 << (7 * length)) - 1:
        value = -1  # unknown size
    return value, length


def _webm_duration(reader) -> float | None:
    """Duration of a WebM stream: the Info Duration if set, otherwise the last block's timestamp."""
    scale = 1_000_000  # ns per timecode unit (default)
    declared = None
    last = 0
    cluster_time = 0
    containers = {SEGMENT, CLUSTER, INFO, BLOCK_GROUP}
    try:
        for _ in range(MAX_ELEMENTS):
            element_id, _ = _read_vint(reader, strip_marker=False)
            if element_id is None:
                break
            size, _ = _read_vint(reader, strip_marker=True)
            if element_id in containers:
                continue  # descend: children follow
            if size is None or size < 0:
                break
            if element_id == TIMECODE_SCALE:
                scale = int.from_bytes(reader.read(size), "big") or scale
            elif element_id == DURATION:
                raw = reader.read(size)
                declared = struct.unpack(">d" if size == 8 else ">f", raw)[0]
            elif element_id == TIMECODE:
                cluster_time = int.from_bytes(reader.read(size), "big")
            elif element_id in (SIMPLE_BLOCK, BLOCK):
                data = reader.read(min(size, 16))
                _, track_len = _read_vint(_Bytes(data), strip_marker=True)
                relative = struct.unpack(">h", data[track_len : track_len + 2])[0]
                last = max(last, cluster_time + relative)
                reader.seek(size - len(data), 1)
            else:
                reader.seek(size, 1)
    except (ValueError, struct.error):
        pass
    if declared:
        return declared * scale / 1e9
    return last * scale / 1e9 if last else None


class _Bytes:
    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def read(self, n: int) -> bytes:
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out
