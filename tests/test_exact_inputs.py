"""Bad inputs to the exact-risk API raise ValueError naming the argument."""
import numpy as np
import pytest

import plrf
from plrf import exact_risk


@pytest.fixture(scope="module")
def spec():
    j = np.arange(1, 51, dtype=float)
    return plrf.Spectrum(j**-2.0, j**-1.0, 0.01)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(steps=0), "steps"),
        (dict(steps=1.5), "steps"),
        (dict(batch=0), "batch"),
        (dict(method="rk4"), "method"),
        (dict(method=lambda: plrf.engines.fast(rtol=-1.0)), "rtol"),
        (dict(method=lambda: plrf.engines.fast(rtol=0.9)), "rtol"),
        (dict(method=lambda: plrf.engines.ode(dt=0.0)), "dt"),
        (dict(method=lambda: plrf.engines.exact(compress=0.5)), "compress"),
        (dict(method=7), "method"),
        (dict(record=[0, 200]), "record"),
        (dict(record=[0.5, 1.0]), "record"),
        (dict(threads=0), "threads"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(spectrum=np.ones(3)), "spectrum"),
        (dict(optimizer=plrf.sgd([0.1] * 10)), "optimizer"),
    ],
)
def test_bad_inputs(spec, kwargs, name):
    args = dict(spectrum=spec, optimizer=plrf.sgd(0.1), steps=100)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        if callable(args.get("method")):  # an engine built inside the check: its options are checked
            args["method"] = args["method"]()
        exact_risk(**args)


def test_max_stable_lr_bad_batch(spec):
    with pytest.raises(ValueError, match="batch"):
        plrf.max_stable_lr(spec, 0)


@pytest.mark.parametrize("method", ["exact", "fast", "ode"])
def test_progress_callback_and_meta(spec, method):
    seen = []
    c = exact_risk(spec, plrf.sgd(0.3), 5000, method=method, progress=seen.append)
    assert seen and all(isinstance(x, int) and x >= 0 for x in seen)
    assert c.meta["method"] == method and c.meta["optimizer"] == "sgd" and not c.interrupted
    assert (c.error_estimate is None) == (method == "exact")
