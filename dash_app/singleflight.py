"""One lock per cache key, so concurrent requests for a missing entry compute it once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class KeyedLocks:
    """Locks made on demand, one per key, and dropped when no thread holds or waits for them.

    Used for single-flight caching: the first thread to miss an entry computes it while
    later threads asking for the same key wait, then find the entry in the cache. Threads
    asking for different keys do not wait for each other. The locks are re-entrant, so a
    thread that asks for a key it is already computing does not deadlock.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.RLock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold the lock of ``key`` for the ``with`` block (waiting for other holders)."""
        with self._guard:
            lock, users = self._locks.get(key, (None, 0))
            if lock is None:
                lock = threading.RLock()
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                _, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        """Return how many keys are held or waited for now."""
        with self._guard:
            return len(self._locks)
