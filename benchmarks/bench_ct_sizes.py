"""CT inspection time by input size: a 256 px and a 512 px slice through the shipped CT model.

Both run through the same path as an upload (battery crop, resize to the model input, intensity
window, Grad-CAM, review checks), so the ratio shows what a larger scanner export costs. Prints
the medians of interleaved runs and their ratio, measured in this one run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks.bench_inspect import _interleaved_medians, _load_inspector


def _slice(size: int) -> np.ndarray:
    """A disc with layers, a void and noise: a cell cross-section at ``size`` px."""
    rng = np.random.default_rng(size)
    yy, xx = np.mgrid[0:size, 0:size] - size / 2
    r = np.hypot(yy, xx)
    img = np.where(r < size * 0.42, 0.45 + 0.15 * np.sin(r / (size / 90)), 0.03)
    img[(yy - size * 0.1) ** 2 + (xx + size * 0.15) ** 2 < (size * 0.02) ** 2] = 0.03
    return np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1).astype(np.float32)


def main() -> None:
    """Print CT inspection medians at 256 and 512 px and their ratio."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        inspector, source = _load_inspector(Path(tmp))
        slices = {size: _slice(size) for size in (256, 512)}
        ms = _interleaved_medians(
            {f"{size}px": (lambda s=s: inspector.analyse(ct=s, battery_type="cell", axis="y")) for size, s in slices.items()}
        )
    ct = inspector.predictors["ct"]
    print(f"models: {source}; CT {ct.card['architecture']} @ {ct.input_hw[0]} px input; torch threads 1")
    print(f"CT inspection 256 px: {ms['256px']:.1f} ms   512 px: {ms['512px']:.1f} ms   ratio 512/256: {ms['512px'] / ms['256px']:.2f}")
