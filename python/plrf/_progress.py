"""The one rule for `progress=` in every entry point (simulate, resume, exact_risk,
Spectrum.theory, sweep.run):

- False or None: silent;
- True: a tqdm bar on stderr;
- a tqdm-like class (e.g. tqdm.notebook.tqdm): called as cls(total=, unit=, desc=) for a bar;
- a tqdm-like object (anything with .update(n), e.g. a bar you made): advanced as work completes,
  and left open for its owner to close;
- any other callable: called with the work done so far, an int (seed-steps for simulate, the
  engine's work units for exact_risk and Spectrum.theory, configs for sweep.run).
"""
from __future__ import annotations


class Progress:
    """Reports an absolute count of work done to whatever `progress` asks for."""

    def __init__(self, progress, total=None, unit="it", desc=None):
        self._own, self._bar, self._fn, self.n = False, None, None, 0
        if progress is None or progress is False:
            return
        if progress is True or isinstance(progress, type):
            factory = progress if isinstance(progress, type) else _tqdm()
            self._bar, self._own = factory(total=total, unit=unit, desc=desc), True
        elif hasattr(progress, "update"):
            self._bar = progress
        elif callable(progress):
            self._fn = progress
        else:
            raise ValueError("progress must be a bool, None, a tqdm-like class or object (with .update(n)) "
                             f"or a callable taking the work done, got {type(progress).__name__}")

    @property
    def callback(self):
        """set, or None when silent (the C++ engines then skip the polling call)."""
        return None if self._bar is None and self._fn is None else self.set

    def set(self, done) -> None:
        done = int(done)
        if done == self.n:
            return
        if self._bar is not None:
            self._bar.update(done - self.n)
        elif self._fn is not None:
            self._fn(done)
        self.n = done

    def advance(self, k=1) -> None:
        self.set(self.n + k)

    def close(self) -> None:
        if self._own:
            self._bar.close()


def _tqdm():
    import sys

    from tqdm.auto import tqdm

    return lambda **kw: tqdm(file=sys.stderr, **kw)
