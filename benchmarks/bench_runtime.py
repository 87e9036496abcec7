"""ONNX Runtime vs torch: batch throughput of the CT + RGB graphs, and one full inspection at 512 px.

Throughput is the models' part of a batch (preprocessed CT + RGB inputs of the shipped default
checkpoints, :data:`BATCH_PAIRS` pairs per call) run on each runtime in turn (interleaved, so
both share the machine's load); the ratio is the figure to read. The full inspection is
:meth:`inspector.pipeline.Inspector.analyse` on one CT + RGB pair resized to 512 x 512
(preprocessing, models, CAM, boxes, verdict) on each runtime.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np

from inspector.pipeline import Inspector, InspectorSettings

log = logging.getLogger(__name__)

WARMUP, REPEATS, BATCH_PAIRS = 2, 7, 16
GOAL_RATIO, GOAL_PAIRS_PER_S = 2.0, 80.0


def _medians(fns: dict[str, Callable[[], object]], repeats: int = REPEATS) -> dict[str, float]:
    for fn in fns.values():
        for _ in range(WARMUP):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _assets() -> tuple[np.ndarray, np.ndarray]:
    from pathlib import Path

    from core.imageio import load_image

    root = Path(__file__).resolve().parent.parent / "assets"
    ct = load_image(sorted((root / "ct").glob("*.png"))[0], "ct")
    rgb = load_image(sorted((root / "rgb").glob("*.png"))[0], "rgb")
    return ct, rgb


def main() -> dict[str, float]:
    """Print and return the throughputs, the ratio and the 512 px inspection times."""
    inspectors = {rt: Inspector.load(InspectorSettings(runtime=rt, vlm=None, vlg=None)) for rt in ("torch", "onnx")}
    ct, rgb = _assets()
    ct_pred, rgb_pred = inspectors["torch"].predictors["ct"], inspectors["torch"].predictors["rgb"]
    ct_batch = np.concatenate([ct_pred.to_tensor(ct_pred._crop(ct)[0]).numpy()] * BATCH_PAIRS)
    rgb_batch = np.concatenate([rgb_pred.detector.preprocess(rgb)[0].numpy()] * BATCH_PAIRS)

    def batch_fn(rt: str) -> Callable[[], object]:
        ct_runner, rgb_runner = inspectors[rt].predictors["ct"].runner, inspectors[rt].predictors["rgb"].runner
        return lambda: (ct_runner.run({"image": ct_batch}), rgb_runner.run({"image": rgb_batch}))

    batch = _medians({rt: batch_fn(rt) for rt in inspectors})
    pairs_per_s = {rt: BATCH_PAIRS / t for rt, t in batch.items()}
    ct512 = cv2.resize(ct, (512, 512), interpolation=cv2.INTER_LINEAR)
    rgb512 = cv2.resize(rgb, (512, 512), interpolation=cv2.INTER_LINEAR)
    full = _medians(
        {rt: (lambda i=i: i.analyse(ct512, rgb512, "cell", "x")) for rt, i in inspectors.items()}
    )
    ratio = pairs_per_s["onnx"] / pairs_per_s["torch"]
    print(f"CT {ct_pred.card['architecture']} {ct_pred.input_hw[0]} px + RGB {rgb_pred.card['architecture']} "
          f"{rgb_pred.input_hw[0]} px, batches of {BATCH_PAIRS} pairs (CPU shared with other jobs, nice'd)")
    for rt in ("torch", "onnx"):
        print(f"  {rt:5s}: {pairs_per_s[rt]:7.1f} pairs/s   full inspection at 512 px: {full[rt] * 1000:7.1f} ms")
    print(f"  onnx / torch throughput: {ratio:.2f}x (goal >= {GOAL_RATIO}x); "
          f"onnx pairs/s goal >= {GOAL_PAIRS_PER_S}: {'met' if pairs_per_s['onnx'] >= GOAL_PAIRS_PER_S else 'NOT met'}")
    return {
        "torch_pairs_per_s": pairs_per_s["torch"],
        "onnx_pairs_per_s": pairs_per_s["onnx"],
        "ratio": ratio,
        "torch_full_512_ms": full["torch"] * 1000,
        "onnx_full_512_ms": full["onnx"] * 1000,
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
