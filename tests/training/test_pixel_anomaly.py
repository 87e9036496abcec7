"""Pixel AUROC and PRO on hand-made maps with known answers."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anomalib.metrics")  # slow first import (lightning) at collection, not in a test

from training.metrics.pixel_anomaly import pixel_auroc, pro_auc  # noqa: E402


def _case() -> tuple[np.ndarray, np.ndarray]:
    """Two equal defect regions: one scored above every normal pixel, one below every normal pixel."""
    mask = np.zeros((1, 40, 40))
    mask[0, 2:6, 2:12] = 1
    mask[0, 20:24, 20:30] = 1
    scores = np.random.default_rng(0).uniform(0.0, 1.0, (1, 40, 40))
    scores[0, 2:6, 2:12] = 2.0
    scores[0, 20:24, 20:30] = -1.0
    return scores, mask


def test_perfect_map_scores_one() -> None:
    _, mask = _case()
    assert pixel_auroc(mask, mask) == 1.0
    assert pro_auc(mask.astype(np.float32), mask) == pytest.approx(1.0, abs=1e-3)


def test_half_found_regions_give_one_half() -> None:
    # pixel AUROC: half the defect pixels rank above all normals, half below -> 0.5;
    # PRO: at every false-positive rate one region is fully covered, the other not at all -> 0.5
    scores, mask = _case()
    assert pixel_auroc(scores, mask) == pytest.approx(0.5, abs=1e-9)
    assert pro_auc(scores, mask, fpr_limit=0.3) == pytest.approx(0.5, abs=0.02)


def test_inverted_map_is_worst() -> None:
    _, mask = _case()
    assert pixel_auroc(-mask, mask) == 0.0
    assert pro_auc(-mask.astype(np.float32), mask) < 0.05


def test_no_defect_pixels_gives_none() -> None:
    zeros = np.zeros((2, 8, 8))
    assert pixel_auroc(zeros, zeros) is None and pro_auc(zeros, zeros) is None
