"""plrf.sweep: grids of configs run locally or on Dask, into a result store that loses nothing.

    from plrf.sweep import grid, run
    report = run(grid(alpha=1.0, beta=0.3, d=[100, 200, 400], optimizer="sgd", steps=10_000,
                      engine="fast"), store="results/")
    df = plrf.load("results/")

config  -- grids, normalisation and the hash key of a config
tasks   -- the engines a config can name, their cost model, and what a worker runs
backend -- where tasks run: in process, a local spawn pool, or Dask
driver  -- run(): plan, submit, collect, write
store   -- the atomic, checksummed result store and load()
"""
from .config import expand, grid, product
from .driver import SweepError, SweepReport, run
from .store import Store, load, to_xarray
from .tasks import register_engine

__all__ = ["run", "grid", "product", "expand", "register_engine", "SweepReport", "SweepError", "Store", "load",
           "to_xarray"]
