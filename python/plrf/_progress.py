"""The one rule for `progress=` in every entry point (simulate, resume, exact_risk,
Spectrum.theory, sweep.run):

- "auto" (the default of simulate, resume and exact_risk): a bar (as True) when the call is estimated
  to take more than AUTO_SECONDS (plrf._cost), else silent;
- False or None: silent;
- True: a tqdm bar on stderr (tqdm.auto: a widget in notebooks, text elsewhere);
- a tqdm-like class (e.g. tqdm.notebook.tqdm): called as cls(total=, unit=, desc=) for a bar;
- a tqdm-like object (anything with .update(n), e.g. a bar you made): advanced as work completes,
  and left open for its owner to close;
- any other callable: called with the work done so far, an int in the bar's units: seed-steps for
  simulate; for exact_risk steps ("exact", "continuous"), ODE grid points over both of its passes
  ("ode") or the percentage of the estimated blocks ("fast", whose steps grow geometrically); points
  for Spectrum.theory; configs for sweep.run.
Bars always have a total, so they show a percentage and an ETA.
"""
from __future__ import annotations

AUTO_SECONDS = 5.0  # progress="auto" shows a bar for calls estimated to take longer than this


class Progress:
    """Reports work done to whatever `progress` asks for.

    total, unit, desc: the bar's. seconds: the estimated cost (read by progress="auto" only).
    scale: maps the engine's counter to the bar's position (default: the counter itself); the
    position is kept within [0, total] and never goes back.
    """

    def __init__(self, progress, total=None, unit="it", desc=None, seconds=None, scale=None):
        self._own, self._bar, self._fn, self.n = False, None, None, 0
        self.total, self._scale = total, scale
        if isinstance(progress, str) and progress == "auto":
            progress = bool(seconds is not None and seconds > AUTO_SECONDS)
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
            raise ValueError("progress must be 'auto', a bool, None, a tqdm-like class or object (with .update(n)) "
                             f"or a callable taking the work done, got {progress!r:.60}")

    @property
    def callback(self):
        """set, or None when silent (the C++ engines then skip the polling call)."""
        return None if self._bar is None and self._fn is None else self.set

    def set(self, done) -> None:
        """The engine's counter is `done`: move the bar to the position it maps to."""
        pos = int(self._scale(done) if self._scale is not None else done)
        if self.total is not None:
            pos = min(pos, int(self.total))
        if pos <= self.n:
            return
        if self._bar is not None:
            self._bar.update(pos - self.n)
        elif self._fn is not None:
            self._fn(pos)
        self.n = pos

    def advance(self, k=1) -> None:
        self.set(self.n + k)

    def finish(self) -> None:
        """The run completed: fill the bar (engines report in chunks, and estimated totals are approximate)."""
        if self.total is not None and self.callback is not None:
            scale, self._scale = self._scale, None
            self.set(self.total)
            self._scale = scale

    def close(self) -> None:
        if self._own:
            self._bar.close()


def _tqdm():
    import sys

    from tqdm.auto import tqdm

    return lambda **kw: tqdm(file=sys.stderr, **kw)
