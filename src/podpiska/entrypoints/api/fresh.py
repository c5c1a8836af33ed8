"""Refreshes of the process's entitlement snapshot shared by the requests waiting for them.

Each entitlement request must see every change committed before it came (docs/
entitlements.md), so it waits for a refresh of the snapshot that begins after it came. One
thread runs the refreshes back to back: each takes every request waiting when it begins
and wakes them all when it is done. Under load one query thus serves many requests, and a
request waits on the event loop (no thread of the pool) for about one round trip to the
database. An answer kept in memory is then given on the loop; a miss (a read of the
database) goes to the thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict

from podpiska.entitlements.cache import EntitlementSnapshots

log = logging.getLogger("podpiska.entitlements")

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class RefreshRounds:
    def __init__(self, snapshots: EntitlementSnapshots) -> None:
        self._snapshots = snapshots
        self._lock = threading.Lock()
        self._waiting: list[_Waiter] = []
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.rounds = 0

    async def wait(self) -> None:
        """Return once a refresh that began after this call has ended (its error raised)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._stopping:
                raise RuntimeError("the snapshot's refreshes have stopped")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="entitlement-rounds", daemon=True
                )
                self._thread.start()
            self._waiting.append((loop, future))
        self._wake.set()
        await future

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                batch, self._waiting = self._waiting, []
                self._wake.clear()
                stopping = self._stopping
            if batch:
                error: BaseException | None = None
                try:
                    self._snapshots.refresh()
                except Exception as exc:  # each waiting request answers with it
                    log.warning("entitlement snapshot: refresh failed: %s", exc)
                    error = exc
                self.rounds += 1
                by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = defaultdict(
                    list
                )
                for loop, future in batch:
                    by_loop[loop].append(future)
                for loop, futures in by_loop.items():
                    try:
                        loop.call_soon_threadsafe(_settle, futures, error)
                    except RuntimeError:  # that loop has closed: nobody waits any more
                        continue
            if stopping:
                return


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # the request went away
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
