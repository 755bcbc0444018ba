"""The floor for a Python server that decrypts: a download with no framework around it.

``python -m bench.bare_server SOURCE WORK_DIR [--bytes]`` encrypts SOURCE into WORK_DIR with Locker's stream
format (same chunk size, a random key), prints the port it listens on and answers every request
on 127.0.0.1 with the whole plaintext: status line and ``Content-Length``, then runs of 16 chunks
read with ``preadv``, opened with ``decrypt_into`` and sent straight from the buffer (no ``bytes``
copy, which WSGI servers need). No HTTP parsing, auth, database or keys to unwrap: what is left is
the cost of reading, decrypting and sending, so the transfer benchmark can show how far Locker is
from what any encrypting Python server could do on the same machine.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locker.crypto.stream import HEADER_SIZE, ChunkReader, encrypt_iter  # noqa: E402

RUN = 16  # chunks per read-decrypt-send step, as vault.transfers.downloads.BATCH_CHUNKS
AAD = b"bench"


def encrypt(source: Path, blob: Path, key: bytes) -> None:
    with source.open("rb") as plain, blob.open("wb") as out:
        for piece in encrypt_iter(key, iter(lambda: plain.read(1 << 20), b""), aad=AAD):
            out.write(piece)


def send_plaintext(conn: socket.socket, blob: Path, key: bytes, as_bytes: bool = False) -> None:
    fd = os.open(blob, os.O_RDONLY)
    try:
        chunks = ChunkReader(key, os.pread(fd, HEADER_SIZE, 0), os.fstat(fd).st_size, aad=AAD)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % chunks.size)
        total = -(-chunks.size // chunks.chunk_size)
        sealed = memoryview(bytearray(RUN * chunks.sealed_size))
        plain = memoryview(bytearray(RUN * chunks.chunk_size))
        for index in range(0, total, RUN):
            count = min(RUN, total - index)
            offset, length = chunks.span(index, count)
            read = os.preadv(fd, [sealed[:length]], offset)
            opened = plain[: chunks.open_into(index, sealed[:read], count, plain)]
            conn.sendall(bytes(opened) if as_bytes else opened)
    finally:
        os.close(fd)


def main(source: Path, work: Path, as_bytes: bool = False) -> None:
    key, blob = os.urandom(32), work / "bare.blob"
    encrypt(source, blob, key)
    with socket.create_server(("127.0.0.1", 0)) as server:
        print(server.getsockname()[1], flush=True)
        while True:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)  # the request; its content does not matter here
                try:
                    send_plaintext(conn, blob, key, as_bytes)
                except OSError:  # the client went away
                    pass


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), "--bytes" in sys.argv[3:])
