"""Feature-based RGB detectors: ``fit rgb`` time for 200 photos and scoring time per photo.

Each detector is fitted (k-fold cross-fitting + final fit, exactly :func:`fit_detector`) on 200
synthetic normal photos, then scores photos one at a time. The reference is a torchvision
ResNet18 forward at the detectors' input size, timed in the same run, so the printed ratios
are robust to how busy the machine is; the goal is a fit under 3 minutes.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from pathlib import Path

import torch

log = logging.getLogger(__name__)

N_PHOTOS, SCORE_REPEATS, FIT_GOAL_S = 200, 10, 180.0
DETECTORS = ("patchcore", "padim", "stfpm")


def _photos(root: Path) -> Path:
    from training.synth import generate, load_config

    batteries = N_PHOTOS // 3 + 10  # the fit reads the train split's normals: make sure there are 200
    generate(load_config(seed=11, modality="rgb", size=256, batteries=batteries, rgb_per_battery=8, workers=0), root)
    return root


def _median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print fit seconds (and ratio to the 3-minute goal) and ms per photo (and ratio to ResNet18) per detector."""
    import torchvision

    from core.imageio import load_image
    from inspector.anomaly import AnomalyDetector
    from training.tasks.rgb.adapt import FitConfig, collect_photos, fit_detector

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        data = _photos(Path(tmp) / "data")
        photo = load_image(collect_photos(data)[0], "rgb")
        resnet = torchvision.models.resnet18().eval()
        x = torch.rand(1, 3, 160, 160)
        with torch.no_grad():
            ref_ms = _median_ms(lambda: resnet(x), SCORE_REPEATS)
        print(f"reference: ResNet18 forward at 160 px {ref_ms:.1f} ms")
        for name in DETECTORS:
            start = time.perf_counter()
            card = fit_detector(data, Path(tmp) / name, config=FitConfig(detector=name, limit=N_PHOTOS))
            fit_s = time.perf_counter() - start
            detector = AnomalyDetector.from_checkpoint(card["checkpoint"])
            score_ms = _median_ms(lambda: detector.predict(photo), SCORE_REPEATS)  # noqa: B023
            print(
                f"{name:10s} fit {card['metrics']['n_normals']} photos: {fit_s:6.1f} s "
                f"({fit_s / FIT_GOAL_S:.2f} of the 3-min goal, {card['metrics']['folds']} folds); "
                f"score one photo: {score_ms:6.1f} ms ({score_ms / ref_ms:.1f}x ResNet18)"
            )
