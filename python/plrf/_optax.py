"""An optax GradientTransformation as a plrf.custom_rule update (JAX is an optional extra: plrf[jax]).

The engine hands the rule the (seeds x d) batch gradient. The transformation is vmapped over the seeds:
each seed is its own d-vector parameter pytree with its own optimizer state, so a transformation that
reads more than one coordinate (global-norm clipping, Adafactor's factored moments, ...) sees only its
seed, exactly as if that seed ran alone. (Treating the array as one leaf would be exact only for
elementwise transformations.) optax's update is added to theta, as plrf's step is; the parameters a
transformation may read (weight decay) are tracked here from theta = 0. JAX must run in float64
(jax.config.update("jax_enable_x64", True)); otherwise the rule is refused rather than silently float32.
"""
from __future__ import annotations

import numpy as np


def is_gradient_transformation(x) -> bool:
    """optax's GradientTransformation is a NamedTuple (init, update), not a callable."""
    return not callable(x) and callable(getattr(x, "init", None)) and callable(getattr(x, "update", None))


def optax_rule(tx):
    """(update, init) for plrf.custom_rule from an optax GradientTransformation `tx`."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as err:
        raise ImportError("an optax GradientTransformation as a rule needs JAX and optax: pip install plrf[jax]") from err
    if not jax.config.jax_enable_x64:
        raise ValueError("update: an optax rule runs in float64 like plrf; call "
                         'jax.config.update("jax_enable_x64", True) first')
    step = jax.jit(jax.vmap(tx.update))  # one seed per row: (grads, state, params) -> (updates, state)

    def init(theta):
        params = jnp.asarray(theta, dtype=jnp.float64)
        return jax.vmap(tx.init)(params), params

    def update(grad, state, t):  # t is optax's own count in its state
        opt_state, params = state
        delta, opt_state = step(jnp.asarray(grad, dtype=jnp.float64), opt_state, params)
        return np.asarray(delta, dtype=np.float64), (opt_state, params + delta)

    return update, init
