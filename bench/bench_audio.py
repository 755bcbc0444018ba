"""Probing a voice message (type and duration) through its encrypted blob, against the same bytes in memory.

A chat's voice message is stored encrypted first, then probed through ``vault.transfers.downloads.PlaintextReader``
(``chats.audio.probe``). For WebM, the probe walks every block a few bytes at a time, so the reader must
not decrypt a chunk per read. The recording is a MediaRecorder-style WebM of 20 ms Opus frames (100 bytes
each, clusters of one second, no declared duration), of 1 and 10 minutes.
"""

from __future__ import annotations

import io
import statistics
import struct
import time

MINUTES = (1, 10)
ROUNDS = 5


def _element(element_id: int, payload: bytes) -> bytes:
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return id_bytes + (0x01_00_00_00_00_00_00_00 | len(payload)).to_bytes(8, "big") + payload


def recording(minutes: int) -> bytes:
    block = [_element(0xA3, b"\x81" + struct.pack(">h", ms) + b"\x80" + bytes(100)) for ms in range(0, 1000, 20)]
    clusters = b"".join(
        _element(0x1F43B675, _element(0xE7, ms.to_bytes(4, "big")) + b"".join(block))
        for ms in range(0, minutes * 60_000, 1000)
    )
    header = _element(0x1A45DFA3, _element(0x4282, b"webm"))
    info = _element(0x1549A966, _element(0x2AD7B1, (1_000_000).to_bytes(3, "big")))
    return header + bytes.fromhex("18538067 01FFFFFFFFFFFFFF") + info + clusters


def _median_seconds(probe_once) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        probe_once()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> str:
    from chats.audio import probe
    from tests.factories import make_account
    from tests.vault.conftest import keys_for, make_upload
    from vault.files import services
    from vault.transfers.downloads import PlaintextReader

    account = make_account("benchaudio")
    keys = keys_for(account)
    rows = []
    for minutes in MINUTES:
        data = recording(minutes)
        stored = services.file_upload(user=account.user, keys=keys, upload=make_upload(keys, "rec.webm", data))

        def from_blob(stored=stored):
            with PlaintextReader(keys, stored.file, stored.version) as reader:
                return probe(reader)

        mime, duration = from_blob()
        assert mime == "audio/webm" and abs(duration - minutes * 60 + 0.02) < 0.01, (mime, duration)
        blob = _median_seconds(from_blob)
        memory = _median_seconds(lambda data=data: probe(io.BytesIO(data)))
        rows.append(
            f"| {minutes} min | {len(data) / 2**20:.1f} MiB | {blob * 1000:.0f} ms | {memory * 1000:.0f} ms "
            f"| {blob / memory:.1f} |"
        )
        print(rows[-1], flush=True)
    return "\n".join(
        [
            "## Voice message probe: through the encrypted blob vs in memory",
            "",
            "`chats.audio.probe` (type and duration of a WebM without a declared duration: it walks every block)",
            "reading the stored, encrypted version through `vault.transfers.downloads.PlaintextReader`, against",
            f"the same plaintext from memory (`io.BytesIO`). Median of {ROUNDS} probes.",
            "Reproduce: `make bench BENCH=audio`.",
            "",
            "| recording | size | through the blob | in memory | ratio |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
