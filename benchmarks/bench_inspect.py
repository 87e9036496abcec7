"""One full inspection vs a bare ResNet18 forward, and batch throughput in CT+RGB pairs per second.

A full inspection is what :meth:`inspector.pipeline.Inspector.analyse` does for one CT+RGB
pair: CT classifier forward + Grad-CAM + boxes, autoencoder forward + error map + boxes, and
the verdict (VLM/VLG excluded: they run in their own threads with their own timeouts). The
reference is a torchvision ResNet18 forward (no gradients) at the CT model's input size, timed
in the same process right before, so the ratio is robust to how busy the machine is.

Uses the shipped default checkpoints when ``checkpoints/`` has them, otherwise random-init
models with the default configs' architectures and sizes (speed does not depend on weights).
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from inspector.pipeline import Inspector, InspectorSettings
from inspector.predictors import find_default_checkpoint
from inspector.settings import default_checkpoints_dir

log = logging.getLogger(__name__)

WARMUP, REPEATS, BATCH_PAIRS = 3, 15, 24
GOAL_RATIO = 4.0


def _interleaved_medians(fns: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median wall time (ms) of each function, run in turn so they share the machine's load."""
    for fn in fns.values():
        for _ in range(WARMUP):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(REPEATS):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def _random_checkpoints(directory: Path) -> None:
    """Random-init stand-ins with the default configs' architectures (late_fusion, conv_ae_compact)."""
    from core.checkpoint import save_checkpoint
    from models.ct_cnn import create_model as create_ct
    from models.rgb_ae import create_model as create_ae

    classes = ["cell_normal", "cell_porosity", "module_normal", "module_porosity", "module_resin_overflow"]
    common = {"metrics": {}, "config": {}, "seed": 0, "data_fingerprint": None, "default": True}
    save_checkpoint(
        create_ct("late_fusion", num_classes=5, dropout=0.3),
        directory / "ct_bench",
        {
            **common,
            "task": "ct",
            "architecture": "late_fusion",
            "model_kwargs": {"dropout": 0.3},
            "class_names": classes,
            "input_size": 128,
            "normalisation": {"mean": [0.5], "std": [0.25]},
        },
    )
    save_checkpoint(
        create_ae("conv_ae_compact"),
        directory / "rgb_bench",
        {
            **common,
            "task": "rgb",
            "architecture": "conv_ae_compact",
            "model_kwargs": {},
            "class_names": ["normal", "defect"],
            "input_size": 128,
            "threshold": 0.01,
            "normalisation": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
            "score_method": {"method": "topk", "metric": "mse", "topk_fraction": 0.01, "smooth_sigma": 2.0},
        },
    )


def _load_inspector(tmp: Path) -> tuple[Inspector, str]:
    shipped = all(find_default_checkpoint(default_checkpoints_dir(), task) for task in ("ct", "rgb"))
    if shipped:
        return Inspector.load(InspectorSettings(vlm=None, vlg=None)), "shipped checkpoints"
    _random_checkpoints(tmp)
    return Inspector.load(InspectorSettings(checkpoints_dir=tmp, vlm=None, vlg=None)), "random-init stand-ins"


def main() -> None:
    """Print the full-inspection / ResNet18 ratio and the batch throughput."""
    import torchvision

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        inspector, source = _load_inspector(Path(tmp))
        ct_pred, rgb_pred = inspector.predictors["ct"], inspector.predictors["rgb"]
        ct_hw, rgb_hw = ct_pred.input_hw, rgb_pred.input_hw
        rng = np.random.default_rng(0)
        ct = rng.random(ct_hw, dtype=np.float32)
        rgb = rng.integers(0, 256, (*rgb_hw, 3), dtype=np.uint8)

        resnet = torchvision.models.resnet18(weights=None, num_classes=5).eval()
        x = torch.rand(1, 3, *ct_hw)

        def bare() -> None:
            with torch.no_grad():
                resnet(x)

        ms = _interleaved_medians(
            {
                "bare": bare,
                "full": lambda: inspector.analyse(ct=ct, rgb=rgb, battery_type="module", axis="y"),
                "ct": lambda: ct_pred.predict(ct, battery_type="module", axis="y"),
                "rgb": lambda: rgb_pred.predict(rgb),
            }
        )

        pairs = [(rng.random(ct_hw, dtype=np.float32), rng.integers(0, 256, (*rgb_hw, 3), dtype=np.uint8))]
        pairs *= BATCH_PAIRS
        start = time.perf_counter()
        for ct_i, rgb_i in pairs:
            inspector.analyse(ct=ct_i, rgb=rgb_i, battery_type="module", axis="y")
        pairs_per_s = len(pairs) / (time.perf_counter() - start)

    ratio = ms["full"] / ms["bare"]
    print(
        f"models: {source}; CT {ct_pred.card['architecture']} @ {ct_hw[0]}x{ct_hw[1]}, "
        f"RGB {rgb_pred.card['architecture']} @ {rgb_hw[0]}x{rgb_hw[1]}; torch threads {torch.get_num_threads()}"
    )
    print(
        f"bare ResNet18 forward @ {ct_hw[0]}x{ct_hw[1]}: {ms['bare']:8.1f} ms (median of {REPEATS}, interleaved)"
    )
    print(f"full inspection (CT + Grad-CAM + AE + error map + verdict): {ms['full']:8.1f} ms")
    print(f"  CT predictor {ms['ct']:.1f} ms, RGB predictor {ms['rgb']:.1f} ms")
    print(
        f"ratio full / ResNet18: {ratio:.2f}x (goal <= {GOAL_RATIO:g}x: {'met' if ratio <= GOAL_RATIO else 'NOT met'})"
    )
    print(f"batch throughput: {pairs_per_s:.2f} CT+RGB pairs/s ({BATCH_PAIRS} pairs, sequential)")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
