"""Confidence intervals that respect batteries: resample whole batteries, not slices.

Slices of one battery are correlated (same scanner profile, same geometry), so a per-slice
bootstrap overstates certainty. :func:`battery_bootstrap` draws batteries with replacement and
recomputes a metric on all their slices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["battery_bootstrap", "recall_on"]


def battery_bootstrap(
    groups: Sequence[str] | np.ndarray,
    metric: Callable[[np.ndarray], float | None],
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float | int | None]:
    """Percentile bootstrap interval of ``metric`` with batteries as the resampling unit.

    Args:
        groups: Battery id of every sample.
        metric: Function of the sample indices of one resample (``np.ndarray`` of ints) that
            returns the metric, or ``None`` when undefined on that resample (skipped).
        n_resamples: Number of resamples.
        level: Central coverage of the interval.
        seed: Seed of the resampling.

    Returns:
        ``{"value", "low", "high", "level", "n_batteries", "n_resamples"}``; ``low``/``high`` are
        ``None`` when fewer than two batteries or no defined resample exist.
    """
    groups = np.asarray(groups)
    ids, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == k) for k in range(len(ids))]
    value = metric(np.arange(groups.size))
    out: dict[str, float | int | None] = {
        "value": value,
        "low": None,
        "high": None,
        "level": level,
        "n_batteries": int(len(ids)),
        "n_resamples": 0,
    }
    if len(ids) < 2:
        return out
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        pick = rng.integers(0, len(ids), len(ids))
        v = metric(np.concatenate([members[k] for k in pick]))
        if v is not None and np.isfinite(v):
            values.append(float(v))
    if values:
        alpha = (1.0 - level) / 2
        out["low"], out["high"] = (float(q) for q in np.quantile(values, [alpha, 1 - alpha]))
        out["n_resamples"] = len(values)
    return out


def recall_on(truth: np.ndarray, called: np.ndarray, positive: bool) -> Callable[[np.ndarray], float | None]:
    """A :func:`battery_bootstrap` metric: the share of samples with ``truth == positive`` whose
    ``called`` equals ``positive`` (defect recall with ``True``, normal recall with ``False``);
    ``None`` when the resample holds no such sample."""

    def metric(idx: np.ndarray) -> float | None:
        sel = idx[truth[idx] == positive]
        return float((called[sel] == positive).mean()) if sel.size else None

    return metric
