"""Battery-grouped splitting for user datasets: no battery ever spans two splits."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from core.errors import InputError

log = logging.getLogger(__name__)


def assign_splits(
    df: pd.DataFrame,
    ratios: dict[str, float] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Assign ``train``/``val``/``test`` by battery, stratified by each battery's rarest label.

    Batteries are grouped by their rarest label (over the whole manifest) and each group is
    split by ``ratios``, so rare classes reach every split whenever the group has at least one
    battery per split.

    Args:
        df: Manifest rows (``battery_id`` and ``label`` columns).
        ratios: Share of batteries per split (default 0.7 / 0.15 / 0.15).
        seed: Shuffling seed.

    Returns:
        A copy of ``df`` with the ``split`` column filled.

    Raises:
        InputError: No rows, or ratios that are negative or all zero.
    """
    ratios = ratios or {"train": 0.70, "val": 0.15, "test": 0.15}
    names = [k for k, v in ratios.items() if v > 0]
    if df.empty:
        raise InputError("cannot split an empty manifest")
    if any(v < 0 for v in ratios.values()) or not names:
        raise InputError(f"split ratios must be non-negative with at least one positive, got {ratios}")
    share = np.array([ratios[k] for k in names], float)
    share /= share.sum()
    freq = df["label"].value_counts()
    rarest = df.groupby("battery_id")["label"].agg(lambda s: min(s.unique(), key=lambda lbl: freq[lbl]))
    rng = np.random.default_rng(seed)
    assignment: dict[str, str] = {}
    for _, group in sorted(rarest.groupby(rarest), key=lambda kv: freq[kv[0]]):
        ids = list(group.index)
        rng.shuffle(ids)
        n = len(ids)
        counts = np.floor(share * n).astype(int)
        for k in np.argsort(-(share * n - counts))[: n - counts.sum()]:
            counts[k] += 1
        if n >= len(names):  # every split gets at least one battery of this group
            for k in np.flatnonzero(counts == 0):
                counts[int(np.argmax(counts))] -= 1
                counts[k] += 1
        bounds = np.cumsum(counts)
        for i, bid in enumerate(ids):
            assignment[bid] = names[int(np.searchsorted(bounds, i, side="right"))]
    out = df.copy()
    out["split"] = out["battery_id"].map(assignment)
    log.info("assigned splits by battery: %s", out.groupby("split")["battery_id"].nunique().to_dict())
    return out
