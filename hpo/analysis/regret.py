"""Normalized regret, defined once for the whole project.

``normalized_regret = (f(incumbent) - f*) / (f_ref - f*)`` where ``f(incumbent)`` is the noise-free loss of the
configuration with the best *observed* loss, ``f*`` the benchmark's optimum and ``f_ref`` the median noise-free loss
over the benchmark's space.

Why the median and not the worst value or the study's own results:

* Losses differ by orders of magnitude across benchmarks (FCNet MSE vs. 1 - accuracy), so raw regret cannot be
  averaged or ranked across benchmarks; a ratio can.
* The worst value is an outlier (diverged networks: FCNet slice_localization's worst MSE is 4e7 while its median is
  0.03), which would squash every method's regret to ~0.
* Normalizing by the best/worst result *observed in the study* (min-max over methods) makes one method's numbers
  change when another method is added; ``f*`` and ``f_ref`` depend on the benchmark only.

So 0 means the optimum was found and 1 means "no better than a typical random configuration".
"""

from __future__ import annotations

import numpy as np


def normalized_regret(true_loss_of_incumbent: np.ndarray | float, f_star: float, f_ref: float) -> np.ndarray:
    """Vectorized normalized regret; clipped at 0 against floating-point round-off."""
    span = f_ref - f_star
    if not span > 0:
        raise ValueError(f"reference loss {f_ref} must exceed the optimum {f_star}")
    return np.maximum(np.asarray(true_loss_of_incumbent, dtype=float) - f_star, 0.0) / span
