"""Where sweep tasks run: in-process (serial), a local spawn process pool, or a Dask cluster.

All three expose submit / wait_first / abort / close, so the driver loop is the same. The local
pool ignores SIGINT in its workers (the driver handles Ctrl-C, then terminates them) and is
rebuilt if a worker dies (BrokenProcessPool), so a killed worker costs only its tasks in flight.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
from concurrent.futures.process import BrokenProcessPool
import multiprocessing
import multiprocessing.spawn as mp_spawn
import ctypes
import os
import queue
import signal
import sys
import threading
import time

from .tasks import WORKER_THREADS_ENV


_BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@contextlib.contextmanager
def _spawn_settings(skip_main: bool, threads: int):
    """What spawned workers inherit while the pool starts them (inside executor.submit).

    skip_main: workers normally re-run the user's __main__ script, which breaks (or re-runs) a
    sweep called from a script without an `if __name__ == "__main__":` guard; task functions
    live in plrf, so workers skip it (unless a custom engine is defined in __main__).
    threads: BLAS threads per worker (read by BLAS at import, so it must be in the environment),
    unless the user set them, so that workers x threads does not oversubscribe the cores.
    """
    original = mp_spawn.get_preparation_data
    saved = {k: os.environ.get(k) for k in _BLAS_THREAD_VARS}

    def preparation_data(name):
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    if skip_main:
        mp_spawn.get_preparation_data = preparation_data
    for k, v in saved.items():
        if v is None:
            os.environ[k] = str(threads)
    try:
        yield
    finally:
        mp_spawn.get_preparation_data = original
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)


def _pool_worker_init(threads: int, driver: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[WORKER_THREADS_ENV] = str(threads)
    _die_with_parent(driver)


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive its driver (e.g. a SIGKILLed one): on Linux the kernel kills it
    (PR_SET_PDEATHSIG); everywhere, a watchdog thread exits when the parent pid changes."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the driver died before the signal was armed
        os._exit(1)

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="plrf-parent-watchdog", daemon=True).start()


class _DoneQueue:
    """Completed futures arrive on a queue (O(1) per completion, unlike re-waiting on all)."""

    def __init__(self):
        self._done = queue.Queue()

    def _track(self, fut):
        fut.add_done_callback(self._done.put)
        return fut

    def wait_first(self, futures):
        while True:
            try:
                fut = self._done.get(timeout=0.5)  # short timeouts keep Ctrl-C responsive
            except queue.Empty:
                continue
            if fut in futures:  # skip futures the driver no longer tracks (resubmitted or aborted)
                return {fut}


class SerialBackend:
    """Runs each task in this process when the driver waits for it (Ctrl-C stops between tasks)."""

    workers = max_in_flight = 1
    retryable = ()

    def submit(self, fn, *args, priority=0, key=None):
        fut = cf.Future()
        fut.call = (fn, args)
        return fut

    def wait_first(self, futures):
        fut = next(iter(futures))
        fn, args = fut.call
        try:
            fut.set_result(fn(*args))
        except Exception as exc:
            fut.set_exception(exc)
        return {fut}

    def abort(self, futures):
        pass

    def restart(self, generation=None):
        pass

    def close(self):
        pass


class PoolBackend(_DoneQueue):
    """A spawn ProcessPoolExecutor of `workers` processes (or a user-supplied Executor)."""

    retryable = (BrokenProcessPool,)

    def __init__(self, workers: int | None = None, executor: cf.Executor | None = None, needs_main=False):
        super().__init__()
        self.owned = executor is None
        self.needs_main = needs_main
        self.workers = workers or getattr(executor, "_max_workers", None) or _cpu_count()
        self.threads = max(1, _cpu_count() // self.workers)
        self.max_in_flight = 2 * self.workers  # queued in the driver, by priority, beyond this
        self.generation = 0
        self.executor = executor or self._new()

    def _new(self):
        return cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_pool_worker_init, initargs=(self.threads, os.getpid()))

    def submit(self, fn, *args, priority=0, key=None):
        if self.owned:
            with _spawn_settings(not self.needs_main, self.threads):  # workers start inside submit
                fut = self.executor.submit(fn, *args)
        else:
            fut = self.executor.submit(fn, *args)
        fut.generation = self.generation
        return self._track(fut)

    def restart(self, generation=None):
        """Replace a broken pool (once per breakage, whichever future reports it first)."""
        if not self.owned:
            raise RuntimeError("the user-supplied executor broke; it cannot be restarted")
        if generation is not None and generation != self.generation:
            return
        self._terminate()
        self.generation += 1
        self.executor = self._new()

    def abort(self, futures):
        for f in futures:
            f.cancel()
        if self.owned:
            self._terminate()

    def _terminate(self):
        procs = list((getattr(self.executor, "_processes", None) or {}).values())
        results = getattr(self.executor, "_result_queue", None)  # shutdown() drops the reference
        self.executor.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # tasks in flight are lost, by design: their configs are simply not stored
            p.terminate()
        for p in procs:
            p.join(timeout=5)
        # A worker stopped while sending its result leaves half a message in the result pipe, and
        # the executor's manager thread waits for the rest; Python joins that thread at exit, so
        # the interpreter would hang there. With the workers gone, this process holds the pipe's
        # last write end: closing it ends the wait (end of file), and the manager thread exits.
        if results is not None:
            results._writer.close()

    def close(self):
        if self.owned:
            self.executor.shutdown(wait=True)


class DaskBackend(_DoneQueue):
    """Tasks submitted to a dask.distributed Client (the cluster reschedules tasks of dead workers).

    A scheduler address ("tcp://host:8786") is connected to here and closed at the end."""

    def __init__(self, client):
        from distributed import Client

        super().__init__()
        self.owned = isinstance(client, str)
        self.client = Client(client, timeout="60s") if self.owned else client
        self.retryable = ()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))
        self.max_in_flight = 1 << 30  # the scheduler orders by the priority we give

    def submit(self, fn, *args, priority=0, key=None):
        return self._track(self.client.submit(fn, *args, priority=priority, pure=False, key=key))

    def abort(self, futures):
        self.client.cancel(list(futures))

    def restart(self, generation=None):
        pass

    def close(self):
        if self.owned:
            self.client.close()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def backend_for(client, workers, needs_main=False):
    """client=None: local pool (serial when workers == 1); an Executor; or a dask Client.

    needs_main: some task function is defined in __main__, so spawned workers must import it."""
    if client is None:
        workers = _cpu_count() if workers is None else workers
        return SerialBackend() if workers == 1 else PoolBackend(workers, needs_main=needs_main)
    if isinstance(client, cf.Executor):
        return PoolBackend(workers, executor=client)
    if isinstance(client, str) or (hasattr(client, "scheduler_info") and hasattr(client, "submit")):
        return DaskBackend(client)
    raise ValueError("client must be None, a concurrent.futures.Executor, a dask.distributed.Client or a Dask "
                     f"scheduler address, got {client!r}")
