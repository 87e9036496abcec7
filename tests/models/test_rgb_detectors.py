"""Feature-based RGB detectors (anomalib): each registered one fits, saves, loads from its card and scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("anomalib.models")  # imported at collection: its import (lightning) is slow, not the tests

from core.checkpoint import save_checkpoint  # noqa: E402
from core.errors import CheckpointError  # noqa: E402
from inspector.anomaly import AnomalyDetector  # noqa: E402
from models.rgb_ae import RGB_MODELS, create_model  # noqa: E402
from models.rgb_ae._features import FeatureDetector  # noqa: E402

FAST = {"stfpm": {"epochs": 1}}


def feature_detectors() -> list[str]:
    """Registered RGB models whose factory builds a :class:`FeatureDetector`."""
    names = []
    for name in RGB_MODELS.names():
        annotation = RGB_MODELS.get(name).__annotations__.get("return", "")
        if "Detector" in str(annotation):
            names.append(name)
    return names


def test_the_three_families_are_registered() -> None:
    assert {"patchcore", "padim", "stfpm"} <= set(feature_detectors())


@pytest.mark.parametrize("name", feature_detectors())
def test_detector_loads_from_its_card_and_scores_an_image(name: str, tmp_path) -> None:
    torch.manual_seed(0)
    model = create_model(name, **FAST.get(name, {}))
    assert isinstance(model, FeatureDetector)
    normals = torch.rand(6, 3, 64, 64) * 0.2 + 0.4
    model.fit([normals[:3], normals[3:]])
    card = {
        "task": "rgb", "architecture": name, "model_kwargs": FAST.get(name, {}), "class_names": ["normal", "defect"],
        "input_size": 64, "threshold": 1.0, "score_method": {"method": "topk", "topk_fraction": 0.01, "smooth_sigma": 0.0},
    }  # fmt: skip
    save_checkpoint(model, tmp_path / f"rgb_{name}", card, fp16=False)

    detector = AnomalyDetector.from_checkpoint(str(tmp_path / f"rgb_{name}.safetensors"))
    normal = (np.full((80, 80, 3), 0.5) * 255).astype(np.uint8)
    odd = normal.copy()
    odd[20:50, 20:50] = (255, 0, 0)
    a, b = detector.predict(normal), detector.predict(odd)
    assert np.isfinite(a["score"]) and a["error_map"].shape == (80, 80)
    # the reloaded statistics are the fitted ones: same scores as the in-memory model
    x, _ = detector.preprocess(odd)
    assert torch.allclose(detector.model.anomaly_map(x), model.anomaly_map(x), atol=1e-4)
    if name != "stfpm":  # a one-epoch student of a random teacher separates nothing yet
        assert b["score"] > a["score"] and b["map_mean"] > a["map_mean"]


def test_patchcore_memory_bank_is_a_bounded_coreset() -> None:
    torch.manual_seed(0)
    model = create_model("patchcore", max_bank=50)
    model.fit([torch.rand(4, 3, 64, 64)])
    bank = model.model.memory_bank
    assert 0 < bank.shape[0] <= 50 and "model.memory_bank" in model.state_dict()


@pytest.mark.parametrize("name", ["patchcore", "padim", "stfpm"])
def test_random_backbone_has_live_residual_branches(name: str) -> None:
    """timm zero-initialises the last BatchNorm of every block: random features must not keep that."""
    model = create_model(name, **FAST.get(name, {}))
    for net in model.extractors():
        scales = [m.weight for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert scales and all(bool(w.any()) for w in scales)


def _striped(rng: np.random.Generator, defect: bool = False) -> torch.Tensor:
    """A 64 px 'battery' photo: stripes with a random phase and noise; a defect is a dark blob."""
    yy, xx = np.mgrid[0:64, 0:64]
    img = 0.5 + 0.2 * np.sin((xx + rng.integers(0, 8)) * np.pi / 4)[..., None] * np.array([1.0, 0.6, 0.3])
    img = img + rng.normal(0, 0.02, img.shape)
    if defect:
        cy, cx = rng.integers(16, 48, 2)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < 25] = 0.05
    return torch.from_numpy(np.clip(img, 0, 1)).permute(2, 0, 1).float()


@pytest.mark.parametrize("name", ["patchcore", "padim"])
def test_detector_on_a_few_tiny_normals_ranks_defects_above_normals(name: str) -> None:
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    # a 2 % coreset of 8 tiny photos keeps 40 patches, too few to cover every stripe phase; whether
    # it separated then depended on numpy's global state (now fixed); a quarter keeps 512
    model = create_model(name, **({"coreset_ratio": 0.25} if name == "patchcore" else {}))
    model.fit([torch.stack([_striped(rng) for _ in range(8)])])
    normals = torch.stack([_striped(rng) for _ in range(6)])
    defects = torch.stack([_striped(rng, defect=True) for _ in range(6)])
    score = lambda x: model.anomaly_map(x).flatten(1).amax(1)  # noqa: E731
    assert score(defects).min() > score(normals).max()


def test_fit_rgb_defaults_to_random_init_not_the_synthetic_backbone() -> None:
    from training.tasks.rgb.adapt import _backbone

    weights, source, norm = _backbone(None)
    assert weights is None and source.startswith("none")
    assert norm["mean"] == [0.0, 0.0, 0.0]


def test_fit_rgb_feeds_a_backbone_the_normalisation_its_card_records(tmp_path: Path) -> None:
    import json

    from training.tasks.rgb.adapt import IMAGENET, _backbone

    weights = tmp_path / "bb.safetensors"
    weights.write_bytes(b"")
    assert _backbone(weights)[2] == IMAGENET  # no card: ImageNet weights assumed
    card = {"task": "rgb_backbone", "normalisation": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}}
    weights.with_suffix(".json").write_text(json.dumps(card))
    path, source, norm = _backbone(weights)
    assert path == weights and "project backbone" in source
    assert norm == card["normalisation"]
    weights.with_suffix(".json").write_text(json.dumps({"task": "rgb_backbone"}))
    with pytest.raises(CheckpointError, match="normalisation"):
        _backbone(weights)


def test_fit_rgb_reads_the_preset_of_the_detector_class() -> None:
    from training.tasks.rgb.adapt import _fit_preset

    assert _fit_preset(RGB_MODELS.get("patchcore"))["folds"] == 3
    assert _fit_preset(RGB_MODELS.get("stfpm"))["folds"] == 3


def test_patchcore_coreset_matches_anomalib_and_reuses_one_buffer() -> None:
    from anomalib.models.components import KCenterGreedy

    from models.rgb_ae.patchcore import buffered_k_center_greedy

    embedding = torch.randn(3000, 4, 4)  # 3-D: no random projection, so both selections are comparable
    torch.manual_seed(3)
    reference = KCenterGreedy(embedding=embedding, sampling_ratio=0.02).select_coreset_idxs()
    torch.manual_seed(3)
    sampler = buffered_k_center_greedy()(embedding=embedding, sampling_ratio=0.02)
    buffers = []  # kept alive, so a fresh tensor per centre could not reuse a freed one's memory
    original = sampler.update_distances

    def spy(cluster_center: torch.Tensor) -> None:
        original(cluster_center)
        buffers.append(sampler._diff)

    sampler.update_distances = spy
    assert sampler.select_coreset_idxs() == reference
    assert len(buffers) == len(reference) - 1 and all(b is buffers[0] for b in buffers)


def test_patchcore_fit_is_repeatable_under_torch_seed_whatever_numpy_did() -> None:
    """anomalib's coreset projection used numpy's global generator: fits differed with test order."""
    banks = []
    for numpy_seed in (1, 2):
        np.random.seed(numpy_seed)
        torch.manual_seed(0)
        model = create_model("patchcore", max_bank=50)
        model.fit([torch.rand(4, 3, 64, 64)])
        banks.append(model.model.memory_bank.clone())
    assert torch.equal(banks[0], banks[1])
