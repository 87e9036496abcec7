"""ONNX Runtime vs torch: batch throughput of the CT + RGB graphs, and one full inspection at 512 px.

Throughput is the models' part of a batch (preprocessed CT + RGB inputs of the shipped default
checkpoints, :data:`BATCH_PAIRS` pairs per call) run on each runtime in turn (interleaved, so
all share the machine's load); the ratio is the figure to read. The full inspection is
:meth:`inspector.pipeline.Inspector.analyse` on one CT + RGB pair resized to 512 x 512
(preprocessing, models, CAM, boxes, verdict) on each runtime.

``onnx_int8`` quantises the CT graph on the shipped sample slices; its agreement with float32 is
measured on slices it was not calibrated on: with ``BENCH_INT8_DATA`` set to dataset folders
(comma separated, e.g. ``data/seed4,data/phys14``), on their test slices (label agreement,
largest defect-probability difference, macro-F1 of both); otherwise on the samples rotated by
90 degrees (a weaker check).
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

    from core.imageio import load_image

    root = _root() / "assets"
    ct = load_image(sorted((root / "ct").glob("*.png"))[0], "ct")
    rgb = load_image(sorted((root / "rgb").glob("*.png"))[0], "rgb")
    return ct, rgb


def main() -> dict[str, float]:
    """Print and return the throughputs, the ratio and the 512 px inspection times."""
    runtimes = ("torch", "onnx", "onnx_int8")
    inspectors = {rt: Inspector.load(InspectorSettings(runtime=rt, vlm=None, vlg=None)) for rt in runtimes}
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
    for rt in runtimes:
        print(f"  {rt:9s}: {pairs_per_s[rt]:7.1f} pairs/s   full inspection at 512 px: {full[rt] * 1000:7.1f} ms")
    print(f"  onnx / torch throughput: {ratio:.2f}x (goal >= {GOAL_RATIO}x); "
          f"onnx pairs/s goal >= {GOAL_PAIRS_PER_S}: {'met' if pairs_per_s['onnx'] >= GOAL_PAIRS_PER_S else 'NOT met'}")
    int8_ratio = pairs_per_s["onnx_int8"] / pairs_per_s["torch"]
    print(f"  onnx_int8 / torch throughput: {int8_ratio:.2f}x; onnx_int8 pairs/s goal >= {GOAL_PAIRS_PER_S}: "
          f"{'met' if pairs_per_s['onnx_int8'] >= GOAL_PAIRS_PER_S else 'NOT met'}")
    agreement = int8_agreement(inspectors["onnx"], inspectors["onnx_int8"])
    print(f"  int8 vs float32 CT on {agreement['source']} ({agreement['n']} slices): label agreement "
          f"{agreement['label_agreement']:.3f}, max |defect p diff| {agreement['max_p_diff']:.3f}, "
          f"macro-F1 {agreement['macro_f1_f32']} -> {agreement['macro_f1_int8']}")
    return {
        **{f"{rt}_pairs_per_s": pairs_per_s[rt] for rt in runtimes},
        "ratio": ratio,
        "int8_ratio": int8_ratio,
        **{f"{rt}_full_512_ms": full[rt] * 1000 for rt in runtimes},
        **{f"int8_{k}": v for k, v in agreement.items()},
    }


def int8_agreement(f32: Inspector, int8: Inspector) -> dict[str, object]:
    """Label agreement and defect-probability difference of two CT predictors on uncalibrated slices."""
    import os
    from pathlib import Path

    import pandas as pd

    from core.imageio import load_image
    from training.metrics.classification import classification_metrics

    a, b = f32.predictors["ct"], int8.predictors["ct"]
    folders = [Path(d) for d in os.environ.get("BENCH_INT8_DATA", "").split(",") if d]
    items: list[tuple[np.ndarray, str | None]] = []
    for folder in folders:
        rows = pd.read_csv(folder / "manifest.csv").query("modality == 'ct' and split == 'test'")
        items += [(load_image(folder / r.image_path, "ct"), r.label) for r in rows.itertuples()]
    if not items:
        items = [(np.rot90(load_image(p, "ct")).copy(), None) for p in sorted((_root() / "assets" / "ct").glob("*.png"))]
    same, diffs, labels, pa, pb = 0, [], [], [], []
    for image, label in items:
        x, y = a.predict(image), b.predict(image)
        same += x.label == y.label
        diffs.append(abs(x.defect_probability - y.defect_probability))
        labels.append(label)
        pa.append([x.probabilities[n] for n in a.class_names])
        pb.append([y.probabilities[n] for n in b.class_names])
    f1 = {"macro_f1_f32": None, "macro_f1_int8": None}
    if folders:
        y_true = np.array([a.class_names.index(label) for label in labels])
        f1 = {
            f"macro_f1_{k}": round(classification_metrics(y_true, np.array(p), a.class_names)["macro_f1"], 4)
            for k, p in (("f32", pa), ("int8", pb))
        }
    return {
        "source": ",".join(map(str, folders)) or "rotated samples",
        "n": len(items),
        "label_agreement": same / max(len(items), 1),
        "max_p_diff": float(max(diffs, default=0.0)),
        **f1,
    }


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
