"""A fixed-size pool of daemon worker threads shared by every VLM/VLG job of the process.

Why not :class:`concurrent.futures.ThreadPoolExecutor`: its workers are joined at interpreter
exit, so one hung backend would keep the process alive. Here the workers are daemon threads,
while each job is still a :class:`concurrent.futures.Future`: a job that is still queued when
its caller gives up is cancelled (:meth:`Future.cancel`) and never runs, and a running job gets
a cooperative cancel event that backends check (``FindingRequest.cancelled``).

The pool size comes from ``INSPECTOR_BACKEND_WORKERS`` (default :data:`DEFAULT_WORKERS`), so
however many sessions inspect at once, at most that many backend calls run at the same time.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from core.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_WORKERS", "WORKERS_ENV", "BackendPool", "shared_pool"]

#: Backend calls that may run at once in one process (VLM + VLG of two sessions).
DEFAULT_WORKERS = 4
#: Environment variable overriding :data:`DEFAULT_WORKERS`.
WORKERS_ENV = "INSPECTOR_BACKEND_WORKERS"


class BackendPool:
    """``workers`` daemon threads running submitted jobs first come, first served.

    Args:
        workers: Number of worker threads (jobs that may run at the same time).
        name: Thread name prefix.

    Raises:
        ConfigError: ``workers`` is not a positive integer.
    """

    def __init__(self, workers: int = DEFAULT_WORKERS, name: str = "inspector-backend") -> None:
        if int(workers) < 1:
            raise ConfigError(f"the backend pool needs at least one worker, got {workers}")
        self.workers = int(workers)
        self._name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._running = 0

    @property
    def running(self) -> int:
        """Jobs running right now (at most :attr:`workers`)."""
        with self._lock:
            return self._running

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Queue ``fn(*args, **kwargs)``; the returned future can be cancelled while queued."""
        future: Future = Future()
        with self._lock:
            if len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        self._queue.put((future, fn, args, kwargs))
        return future

    def _work(self) -> None:
        while True:
            future, fn, args, kwargs = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued: never runs, takes no slot
            with self._lock:
                self._running += 1
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # the future carries it to the caller
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                with self._lock:
                    self._running -= 1


_POOL: BackendPool | None = None
_POOL_LOCK = threading.Lock()


def shared_pool() -> BackendPool:
    """The process-wide pool (created on first use, sized by ``INSPECTOR_BACKEND_WORKERS``).

    Raises:
        ConfigError: ``INSPECTOR_BACKEND_WORKERS`` is not a positive integer.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            raw = os.environ.get(WORKERS_ENV) or str(DEFAULT_WORKERS)
            try:
                workers = int(raw)
            except ValueError as exc:
                raise ConfigError(f"{WORKERS_ENV} must be a positive integer, got {raw!r}") from exc
            _POOL = BackendPool(workers)
        return _POOL
