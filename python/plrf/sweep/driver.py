"""plrf.sweep.run: run a grid of configs locally or on Dask, into a result store that loses nothing.

    from plrf.sweep import grid
    report = plrf.sweep.run(grid(alpha=1.0, beta=0.3, d=[100, 200, 400], optimizer="sgd",
                             steps=10_000, engine="fast"), store="results/")
    df = plrf.load("results/")

Configs are grouped by problem (alpha, beta, d, v, seed, spectrum): its spectrum is computed
once and shared by all the problem's runs. Work is packed into tasks by estimated cost and
submitted largest first. The driver writes each finished config atomically; configs already in
the store are skipped, so an interrupted sweep resumes where it stopped.
"""
from __future__ import annotations

import heapq
import itertools
import os
import sys
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import _validate as check
from .._progress import Progress
from ..curves import DivergenceWarning
from .store import Store, load
from .backend import backend_for
from .config import config_key, expand, grid, normalize, problem_key, product
from .tasks import ENGINES, Engine, chunk_task, cost_spectrum, problem_of, register_engine, spectrum_task

__all__ = ["run", "SweepReport", "SweepError"]

MIN_TASK_COST = 2e7  # about 10 ms of engine work: smaller configs are packed together
TASKS_PER_WORKER = 8  # enough tasks for balancing, few enough that overheads stay small
MAX_ATTEMPTS = 3  # a job whose worker dies this many times is reported as failed
MAX_WORKERS_PER_CPU = 8
CLAIM_POLL_SECONDS = 0.5  # how often a sweep looks at configs another sweep is computing


@dataclass
class SweepReport:
    """What a sweep did. `keys[i]` is the store key of the i-th expanded config."""

    store: Path
    keys: list = field(repr=False)
    skipped: int = 0
    computed: int = 0
    failed: list = field(default_factory=list, repr=False)  # dicts: key, config, error
    diverged: list = field(default_factory=list, repr=False)  # keys of stored runs that diverged
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(set(self.keys))

    def load(self, **kwargs):
        return load(self.store, **kwargs)

    def __str__(self):
        return (f"sweep of {self.total} config(s) into {self.store}: {self.computed} computed, {self.skipped} already "
                f"done, {len(self.failed)} failed, {len(self.diverged)} diverged, {self.seconds:.1f} s")


class SweepError(RuntimeError):
    """Some configs failed (everything else is stored); `.report.failed` lists them."""

    def __init__(self, report: SweepReport):
        first = report.failed[0]
        super().__init__(f"{len(report.failed)} config(s) failed; first ({first['key'][:12]}):\n{first['error']}")
        self.report = report


@dataclass
class _Task:
    problem: dict
    items: list  # (key, config, engine run)
    cost: float


@dataclass
class _Job:
    """What one submission computes: a problem's spectrum (then its tasks), or one task."""

    kind: str  # "spectrum" | "chunk"
    tasks: list
    spectrum: object = None
    attempts: int = 0

    @property
    def priority(self) -> float:
        own_spectrum = self.kind == "spectrum" or self.spectrum is None
        return sum(t.cost for t in self.tasks) + (cost_spectrum(self.tasks[0].problem) if own_spectrum else 0.0)

    @property
    def items(self) -> list:
        return [it for t in self.tasks for it in t.items]

    def call(self):
        t = self.tasks[0]
        if self.kind == "spectrum":
            return spectrum_task, (t.problem,)
        return chunk_task, (t.problem, self.spectrum, t.items)


class _Scheduler:
    """Driver-side priority queue: the costliest ready job is submitted first, and at most
    backend.max_in_flight jobs are submitted at a time (a FIFO pool then still runs big jobs
    first, including the tasks unlocked when a shared spectrum arrives)."""

    def __init__(self, backend):
        self.backend, self.ready, self.pending = backend, [], {}
        self._seq = itertools.count()
        self._tag = uuid.uuid4().hex[:8]

    def push(self, job):
        heapq.heappush(self.ready, (-job.priority, next(self._seq), job))

    def fill(self):
        while self.ready and len(self.pending) < self.backend.max_in_flight:
            _, n, job = heapq.heappop(self.ready)
            fn, args = job.call()
            fut = self.backend.submit(fn, *args, priority=job.priority, key=f"plrf-{job.kind}-{self._tag}-{n}")
            self.pending[fut] = job

    def next_done(self):
        fut = next(iter(self.backend.wait_first(self.pending)))
        return fut, self.pending.pop(fut)

    def jobs(self):
        return [j for *_, j in self.ready] + list(self.pending.values())


def _engines_for(engine):
    """The engine table and the default engine name for configs that don't name one."""
    if engine is None:
        return ENGINES, "exact"
    if isinstance(engine, str):
        return ENGINES, engine
    if callable(engine):
        name = f"custom:{getattr(engine, '__module__', '?')}.{getattr(engine, '__qualname__', repr(engine))}"
        return {**ENGINES, name: Engine(engine, ENGINES["exact"].cost, seeded=True)}, name
    raise ValueError(f"engine must be None, an engine name or a callable, got {engine!r}")


def _pack(configs, engines, target):
    """Split one problem's configs (largest first) into tasks of about `target` cost each."""
    bins = []
    for key, cfg in sorted(configs, key=lambda kc: -engines[kc[1]["engine"]].cost(kc[1])):
        c = engines[cfg["engine"]].cost(cfg)
        dest = next((b for b in bins if b[0] + c <= target), None)
        if dest is None:
            dest = [0.0, []]
            bins.append(dest)
        dest[0] += c
        dest[1].append((key, cfg, engines[cfg["engine"]].run))
    return [_Task(problem_of(configs[0][1]), items, cost) for cost, items in bins]


def _plan(todo, engines, workers):
    """Group by problem and pack: {problem key: [tasks]} (ordered by descending group cost)."""
    groups = {}
    for key, cfg in todo.items():
        groups.setdefault(problem_key(cfg), []).append((key, cfg))
    total = sum(engines[c["engine"]].cost(c) for c in todo.values())
    target = max(MIN_TASK_COST, total / (TASKS_PER_WORKER * workers))
    plan = {pk: _pack(cfgs, engines, target) for pk, cfgs in groups.items()}
    return dict(sorted(plan.items(), key=lambda kv: -sum(t.cost for t in kv[1])))


def run(grid, engine=None, store="results/", client=None, progress=True, workers=None) -> SweepReport:
    """Run every config of `grid` not yet in `store`; return a SweepReport.

    grid: a dict (expanded with `grid(**dict)`) or a list of config dicts; see plrf.sweep.config.
    engine: default engine for configs without "engine" (a name), or a callable
        engine(spectrum, optimizer, config) -> Curve | Curves used as a custom engine.
    store: directory of the result store (created if needed).
    client: None for a local spawn process pool (in this process when workers == 1), a
        concurrent.futures.Executor, a dask.distributed.Client or a scheduler address such as
        "tcp://scheduler:8786" (Dask workers need plrf installed, but no shared filesystem:
        results come back to this process, which writes them).
    progress: True (default, a tqdm bar), False, a tqdm-like class or object, or a callable taking
        the number of configs done (the rule of plrf._progress, shared by every entry point).
    workers: size of the local pool (default: the CPUs available).
    Raises SweepError after the sweep if some configs failed; all others are stored.
    """
    t0 = time.perf_counter()
    engines, default_engine = _engines_for(engine)
    if workers is not None:  # processes, not threads: far more than the cores only costs memory
        workers = check.integer("workers", workers, 1, MAX_WORKERS_PER_CPU * max(1, os.cpu_count() or 1))
    configs = [normalize(c, engines, default_engine) for c in expand(grid)]
    st = Store(store)
    st.remove_stale_tmp()
    keys = [config_key(c) for c in configs]
    report = SweepReport(st.root, keys)
    todo = {}
    for key, cfg in zip(keys, configs):
        if key not in todo and not st.is_done(key):
            todo[key] = cfg
    report.skipped = report.total - len(todo)
    if todo:
        st.check_writable()  # a read-only store fails here, before any config is computed
        needs_main = any(getattr(getattr(e.run, "func", e.run), "__module__", None) == "__main__"
                         for e in engines.values())
        _run_claimed(todo, engines, st, report, progress, lambda: backend_for(client, workers, needs_main))
    report.seconds = time.perf_counter() - t0
    if report.diverged:
        warnings.warn(f"{len(report.diverged)} run(s) of this sweep diverged; they are stored with their "
                      "divergence step (column diverged_at of plrf.load)", DivergenceWarning, stacklevel=2)
    if report.failed:
        raise SweepError(report)
    return report


def _run_claimed(todo, engines, st, report, progress, make_backend):
    """Compute the configs this sweep can claim; wait for those another sweep on the same store
    holds (counted as skipped once it stores them; taken over if its claim goes stale)."""
    held, backend, waiting, told = set(), None, dict(todo), False
    try:
        while waiting:
            mine = {}
            for key in list(waiting):
                if key not in held and st.claim(key):
                    held.add(key)
                if st.is_done(key):  # also after claiming: the other sweep may just have finished it
                    del waiting[key]
                    report.skipped += 1
                elif key in held:
                    mine[key] = waiting.pop(key)
            if mine:
                backend = backend or make_backend()
                _execute(_plan(mine, engines, backend.workers), backend, st, report, progress)
            elif waiting:
                if progress and not told:
                    print(f"plrf sweep: waiting for {len(waiting)} config(s) that another sweep on {st.root} "
                          "is computing", file=sys.stderr)
                    told = True
                time.sleep(CLAIM_POLL_SECONDS)
    finally:
        for key in held:
            st.release(key)
        if backend is not None:
            backend.close()


def _execute(plan, backend, st, report, progress):
    """Run the plan, write results as they arrive, resubmit jobs of dead local workers."""
    sched = _Scheduler(backend)
    for tasks in plan.values():  # a problem split into several tasks computes its spectrum once, first
        sched.push(_Job("chunk", tasks) if len(tasks) == 1 else _Job("spectrum", tasks))
    bar = Progress(progress, total=sum(len(j.items) for j in sched.jobs()), unit="cfg", desc="plrf sweep")
    try:
        sched.fill()
        while sched.pending:
            fut, job = sched.next_done()
            _handle(fut, job, sched, st, report, bar)
            sched.fill()
    except BaseException:  # Ctrl-C (or a bug): stop the workers; finished results are already stored
        backend.abort(list(sched.pending))
        bar.close()
        print(f"plrf sweep stopped: {report.computed} result(s) stored in {st.root}, "
              f"{sum(len(j.items) for j in sched.jobs())} not run; rerun the same sweep to resume", file=sys.stderr)
        raise
    bar.close()


def _handle(fut, job, sched, st, report, bar):
    try:
        out = fut.result()
    except sched.backend.retryable:  # a local worker died: rebuild the pool once, resubmit
        sched.backend.restart(getattr(fut, "generation", None))
        job.attempts += 1
        if job.attempts < MAX_ATTEMPTS:
            sched.push(job)
        else:
            _fail(report, job.items, f"the worker died {MAX_ATTEMPTS} times running this task (a crash, out of "
                                     "memory, or a function the workers cannot import, e.g. defined in __main__)", bar)
    except Exception as exc:  # the job itself failed (e.g. the spectrum): all its configs fail
        _fail(report, job.items, repr(exc), bar)
    else:
        if job.kind == "spectrum":
            for task in job.tasks:
                sched.push(_Job("chunk", [task], spectrum=out))
        else:
            _store_results(st, job.tasks[0], out, report, bar)


def _fail(report, items, error, bar):
    for key, cfg, _ in items:
        report.failed.append({"key": key, "config": cfg, "error": error})
    bar.advance(len(items))


def _store_results(st, task, out, report, bar):
    cfgs = {key: cfg for key, cfg, _ in task.items}
    for key, data, diverged, error in out:
        if error is None:
            st.write(key, data)
            report.computed += 1
            if diverged:
                report.diverged.append(key)
        else:
            report.failed.append({"key": key, "config": cfgs[key], "error": error})
        bar.advance(1)
