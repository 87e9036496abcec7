"""Tests for training.tasks.rgb: a tiny train -> evaluate round trip through the CLI, and its guards."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.checkpoint import load_card, update_card
from inspector.anomaly import AnomalyDetector
from inspector.cli import main
from training.tasks.rgb import RGBImages, per_type_recall, train_from_cli
from training.tasks.rgb.evaluation import battery_intervals

CONFIG = Path(__file__).resolve().parents[3] / "training" / "configs" / "rgb_smoke.yaml"
SIZE = 32


def _photo(rng: np.random.Generator, label: str) -> np.ndarray:
    """A close-up of a grey battery surface (a gentle gradient), with a defect drawn for defect labels."""
    ramp = np.linspace(130, 170, SIZE)[None, :, None]
    image = np.broadcast_to(ramp, (SIZE, SIZE, 3)) + rng.normal(0, 3, (SIZE, SIZE, 3))
    image = np.clip(image, 0, 255).astype(np.uint8)
    y, x = rng.integers(8, 20, size=2)
    if label == "pollution":
        image[y : y + 6, x : x + 6] = (90, 60, 20)
    elif label == "scratch":
        image[y, 6:26] = 255
        image[y + 1, 6:26] = 255
    elif label == "damage":
        image[y : y + 8, x : x + 5] = 0
    return image


def make_rgb_dataset(root: Path, counts: dict[str, dict[str, int]], seed: int = 0) -> Path:
    """Write a manifest + PNGs: ``counts[split][label] = n`` (one battery per image)."""
    rng = np.random.default_rng(seed)
    rows = []
    (root / "rgb").mkdir(parents=True, exist_ok=True)
    for split, per_label in counts.items():
        for label, n in per_label.items():
            for i in range(n):
                name = f"rgb/{split}_{label}_{i}.png"
                Image.fromarray(_photo(rng, label)).save(root / name)
                rows.append(
                    {
                        "image_path": name,
                        "mask_path": "",
                        "modality": "rgb",
                        "battery_id": f"{split}-{label}-{i}",
                        "battery_type": "cell",
                        "axis": "",
                        "slice_index": "0",
                        "label": label,
                        "is_defect": str(int(label != "normal")),
                        "boxes": "[]",
                        "split": split,
                    }
                )
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


DEFECTS = {"pollution": 3, "scratch": 3, "damage": 3}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rgbdata")
    counts = {
        "train": {"normal": 24, **DEFECTS},  # train defects must be ignored by the autoencoder
        "val": {"normal": 10, **DEFECTS},
        "test": {"normal": 10, **DEFECTS},
    }
    return make_rgb_dataset(root, counts)


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("rgbrun")
    result = train_from_cli(CONFIG, dataset, out, overrides={"epochs": 3})
    return out, result


def test_training_set_is_normals_only(dataset):
    train = RGBImages(dataset, "train", SIZE, normals_only=True)
    assert len(train) == 24 and set(train.labels) == {"normal"}
    val = RGBImages(dataset, "val", SIZE)
    assert len(val) == 19 and sum(val.is_defect) == 9
    item = val[0]
    assert item["image"].shape == (3, SIZE, SIZE) and 0.0 <= float(item["image"].min())


def test_train_writes_checkpoint_with_honest_threshold(trained):
    out, result = trained
    assert (out / "best.safetensors").is_file() and (out / "history.json").is_file()
    card = load_card(out / "best")
    assert card["task"] == "rgb" and card["architecture"] == "conv_ae_compact"
    assert card["dtype"] == "float16"
    threshold = card["threshold"]
    assert isinstance(threshold, float) and math.isfinite(threshold)
    assert card["threshold"] == result["threshold"] == result["val"]["threshold"]
    assert card["score_method"]["method"] == "topk"
    stats = card["score_stats"]
    assert stats["error_scale"] > 0 and stats["score_scale"] > 0
    assert stats["normal_mean"] < threshold < stats["defect_mean"]
    # the stored J is the one of the stored threshold on the val split it was chosen on
    val = card["metrics"]["val"]
    assert val["youden_j"] == pytest.approx(val["tpr"] - val["fpr"], abs=1e-9)
    assert val["n_normal"] > 0 and val["n_defect"] > 0 and 0 <= val["fpr"] < val["tpr"] <= 1
    assert val["youden_j"] > 0
    assert "test" in card["metrics"] and card["metrics"]["test"]["n_images"] == 19


def test_evaluate_cli_round_trip_with_report(trained, dataset, tmp_path, capsys):
    out, _ = trained
    metrics_path = tmp_path / "eval.json"
    report = tmp_path / "report"
    code = main(
        [
            "evaluate", "rgb", "--checkpoint", str(out / "best.safetensors"), "--data", str(dataset),
            "--split", "test", "--json", str(metrics_path), "--report", str(report),
        ]
    )  # fmt: skip
    assert code == 0
    metrics = json.loads(metrics_path.read_text())
    for key in ("roc_auc", "threshold", "accuracy", "f1", "defect_recall", "normal_recall"):
        assert key in metrics
    assert metrics["threshold"] == load_card(out / "best")["threshold"]
    assert set(metrics["per_type_recall"]) == {"normal", "pollution", "scratch", "damage"}
    assert metrics["n_images"] == 19
    # the synthetic defects here are blatant: even this 3-epoch model ranks them above normals
    assert metrics["roc_auc"] > 0.9
    ci = metrics["ci"]["roc_auc"]
    assert ci["value"] == pytest.approx(metrics["roc_auc"]) and ci["low"] <= ci["value"] <= ci["high"]
    assert ci["n_batteries"] == 19  # one battery per photo here
    for name in ("score_histogram.png", "roc.png", "report.md"):
        assert (report / name).stat().st_size > 0
    assert "Recall per RGB label" in (report / "report.md").read_text()


def test_detector_from_checkpoint_predicts_a_defect(trained):
    out, _ = trained
    detector = AnomalyDetector.from_checkpoint(str(out / "best.safetensors"))
    rng = np.random.default_rng(5)
    normal = detector.predict(_photo(rng, "normal"))
    damaged = detector.predict(np.kron(_photo(rng, "damage"), np.ones((2, 2, 1), np.uint8)))  # 64 px input
    assert damaged["error_map"].shape == (64, 64)
    assert damaged["score"] > normal["score"]


def test_nan_threshold_in_card_is_a_one_line_error(trained, dataset, tmp_path, capsys):
    out, _ = trained
    broken = tmp_path / "broken"
    for suffix in (".safetensors", ".json"):
        (broken.parent / f"broken{suffix}").write_bytes((out / f"best{suffix}").read_bytes())
    update_card(broken, threshold=float("nan"))
    code = main(
        ["evaluate", "rgb", "--checkpoint", str(broken) + ".safetensors", "--data", str(dataset),
         "--json", str(tmp_path / "m.json")]
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "not a finite number" in err and "\n" not in err


def test_val_without_defects_refuses_to_train(tmp_path, capsys):
    data = make_rgb_dataset(tmp_path / "data", {"train": {"normal": 8}, "val": {"normal": 4}})
    code = main(
        ["train", "rgb", "--config", str(CONFIG), "--data", str(data), "--out", str(tmp_path / "run"),
         "--epochs", "1"]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and "needs both normals and defects" in err


def test_missing_normals_in_train_is_clear(tmp_path):
    from core.errors import InputError

    data = make_rgb_dataset(tmp_path / "data", {"train": {"scratch": 2}, "val": {"normal": 2, "scratch": 2}})
    with pytest.raises(InputError, match="no normal RGB images in split 'train'"):
        train_from_cli(CONFIG, data, tmp_path / "run")


def test_intervals_resample_batteries_not_photos():
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7])
    is_defect = np.array([0, 0, 1, 1, 0, 1])
    per_photo = battery_intervals(np.arange(6).astype(str), is_defect, scores, 0.5, n_resamples=200)
    assert per_photo["roc_auc"]["n_batteries"] == 6 and per_photo["roc_auc"]["value"] == 1.0
    assert per_photo["normal_recall"]["value"] == 1.0 and per_photo["defect_recall"]["value"] == 1.0
    # two batteries, each all normal or all defect: no resample holds both classes but the full set
    two = battery_intervals(np.array(["a", "a", "b", "b", "a", "b"]), is_defect, scores, 0.5, n_resamples=200)
    assert two["roc_auc"]["n_batteries"] == 2
    # a resample of two batteries holds both only when it draws a and b: AUROC stays 1.0 there
    assert two["roc_auc"]["low"] == two["roc_auc"]["high"] == 1.0


def test_per_type_recall():
    labels = np.array(["normal", "normal", "scratch", "scratch", "damage"])
    predicted = np.array([False, True, True, True, False])
    assert per_type_recall(labels, predicted) == {"damage": 0.0, "normal": 0.5, "scratch": 1.0}


def test_draem_trains_its_error_head_on_corruptions(dataset, tmp_path):
    config = tmp_path / "draem.yaml"
    config.write_text(
        CONFIG.read_text()
        .replace("architecture: conv_ae_compact", "architecture: draem")
        .replace(
            "    channels: [8, 16, 32, 32]\n    latent_channels: 16",
            "    channels: [8, 16]\n    head_channels: [8, 16]",
        )
        + "corrupt:\n  p: 0.7\n"
    )
    result = train_from_cli(config, dataset, tmp_path / "run", overrides={"epochs": 2})
    card = load_card(tmp_path / "run" / "best")
    assert card["architecture"] == "draem" and math.isfinite(card["threshold"])
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert "train_seg_loss" in history[0]
    assert result["val"]["n_normal"] == 10


def test_draem_without_corruptions_is_a_config_error(dataset, tmp_path):
    from core.errors import ConfigError

    config = tmp_path / "draem.yaml"
    config.write_text(
        CONFIG.read_text()
        .replace("architecture: conv_ae_compact", "architecture: draem")
        .replace("    channels: [8, 16, 32, 32]\n    latent_channels: 16", "    channels: [8, 16]")
    )
    with pytest.raises(ConfigError, match="corrupt.p"):
        train_from_cli(config, dataset, tmp_path / "run")


def _battery_photo(rng: np.random.Generator, label: str, size: int = 96) -> np.ndarray:
    """A small battery (casing + label) on a smooth background; defects drawn on the casing."""
    image = np.empty((size, size, 3), np.uint8)
    image[...] = (60 + rng.integers(0, 20), 90, 140)
    x, y = rng.integers(20, 30, size=2)
    image[y : y + 50, x : x + 30] = (30, 60, 170)
    image[y + 18 : y + 28, x : x + 30] = (235, 235, 235)
    if label != "normal":
        image[y + 32 : y + 42, x + 6 : x + 24] = (250, 250, 250) if label == "scratch" else (20, 10, 0)
    return image


def test_shipped_rgb_recipe_crops_to_the_battery_and_maps_back(tmp_path):
    """The shipped config (DRAEM head, battery crop, quarter turns, Dice) end to end on tiny data."""
    from training.config import load_config
    from training.tasks.rgb import RGBConfig, train

    rng = np.random.default_rng(0)
    root = make_rgb_dataset(tmp_path / "data", {"train": {"normal": 16}, "val": {"normal": 4, "damage": 4}})
    frame = pd.read_csv(root / "manifest.csv")
    for path, label in zip(frame["image_path"], frame["label"]):
        Image.fromarray(_battery_photo(rng, label)).save(root / path)
    shipped = CONFIG.parent / "rgb_draem.yaml"
    overrides = {"train.epochs": 10, "data.input_size": 32, "data.batch_size": 4, "train.progress_bar": False}
    result = train(load_config(shipped, RGBConfig, overrides), root, tmp_path / "run")
    card = load_card(tmp_path / "run" / "best")
    assert card["preprocessing"]["crop"] == "battery_box" and math.isfinite(result["threshold"])
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history[0]["train_dice_loss"] > 0
    detector = AnomalyDetector.from_checkpoint(str(tmp_path / "run" / "best.safetensors"))
    assert detector.crop.enabled and detector.crop.size == 32
    photo = _battery_photo(rng, "damage")
    out = detector.predict(photo)
    assert out["error_map"].shape == photo.shape[:2]
    # outside the crop window around the battery there is no error
    x0, y0, side = detector.crop.window(photo)
    outside = np.ones(photo.shape[:2], bool)
    outside[max(y0, 0) : y0 + side, max(x0, 0) : x0 + side] = False
    assert outside.any() and float(out["error_map"][outside].max()) == 0.0
