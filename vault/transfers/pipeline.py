"""Overlapping the steps of an upload on threads (reading the body, hashing, sealing, writing the disk).

Each step is a :class:`Stage`: jobs run in the order they were submitted, at most one
in flight, so a step keeps its order and holds at most one piece ahead (memory stays
bounded). The heavy work (AES-GCM, SHA-256, file I/O) releases the GIL, so the steps
of one upload run on several cores at once. Each kind of step has its own pool, so a
job never waits for a job queued behind it in the same pool. (Downloads do not use it:
measured on 2 cores, decrypting in the request thread was faster; see vault.transfers.downloads.)
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

HASH_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="locker-hash")
SEAL_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="locker-seal")
WRITE_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="locker-write")


class Stage:
    """One step on ``pool``: ``submit()`` waits for the previous job, then queues the next."""

    def __init__(self, pool: ThreadPoolExecutor):
        self._pool = pool
        self._pending: Future | None = None

    def submit(self, fn, *args) -> None:
        self.wait()
        self._pending = self._pool.submit(fn, *args)

    def wait(self) -> None:
        """Let the job in flight finish; its error is raised here, in the caller's thread."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def drain(self) -> None:
        """Let the job in flight finish, ignoring its error (the work is being thrown away)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.exception()
