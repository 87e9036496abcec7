"""``fit rgb``: fitting a feature detector on a folder of photos, its threshold rules and its checkpoint."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("anomalib.models")  # slow first import (lightning) at collection, not in a test

from core.errors import InputError  # noqa: E402
from inspector.anomaly import AnomalyDetector  # noqa: E402
from training.tasks.rgb.adapt import FitConfig, collect_photos, fit_detector  # noqa: E402

# small and fast: 64 px crops, two folds, PaDiM (no training)
FAST = dict(detector="padim", input_size=64, folds=2, model_kwargs={"n_features": 32})


@pytest.fixture(scope="module")
def photo_folders(tiny_dataset, tmp_path_factory) -> dict[str, Path]:
    """Nested folders of the tiny dataset's normal and defect photos, plus one corrupt file."""
    root = tmp_path_factory.mktemp("photos")
    normals, defects = root / "normals", root / "defects"
    for i, path in enumerate(collect_photos(tiny_dataset, "normal")):
        target = normals / f"batch{i % 2}" / f"n{i}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    for i, path in enumerate(collect_photos(tiny_dataset, "defect")[:8]):
        defects.mkdir(exist_ok=True)
        shutil.copy(path, defects / f"d{i}.png")
    (normals / "batch0" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    return {"normals": normals, "defects": defects}


def _good(folder: Path) -> Path:
    return next(p for p in collect_photos(folder) if p.name != "broken.png")


def test_fit_without_defects_uses_the_false_alarm_quantile(photo_folders, tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        card = fit_detector(photo_folders["normals"], tmp_path, config=FitConfig(false_alarm=0.1, **FAST))
    # the corrupt file is skipped with a warning that names it, never a crash
    assert any("broken.png" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    metrics = card["metrics"]
    assert metrics["threshold_rule"]["rule"] == "false_alarm_quantile"
    assert 0.0 <= metrics["heldout_false_alarm"] <= 0.1
    assert metrics["n_normals"] == len(collect_photos(photo_folders["normals"])) - 1
    assert sum(metrics["score_histogram"]["normal"]) == metrics["n_normals"]
    assert {"seed", "data_fingerprint", "config"} <= set(card) and card["backbone"]["source"]

    # the checkpoint is an ordinary RGB checkpoint: the runtime detector loads it and scores a photo
    saved = json.loads((tmp_path / "rgb_padim.json").read_text())
    assert saved["threshold"] == card["threshold"] and saved["architecture"] == "padim"
    detector = AnomalyDetector.from_checkpoint(str(tmp_path / "rgb_padim.safetensors"))
    from core.imageio import load_image

    photo = load_image(_good(photo_folders["normals"]), "rgb")
    assert np.isfinite(detector.predict(photo)["score"])


def test_fit_with_defects_uses_youden(photo_folders, tmp_path) -> None:
    card = fit_detector(photo_folders["normals"], tmp_path, photo_folders["defects"], config=FitConfig(**FAST))
    rule = card["metrics"]["threshold_rule"]
    assert rule["rule"] == "youden_j" and rule["n_defect"] == 8
    assert card["metrics"]["defect_recall"] == pytest.approx(rule["tpr"])


def test_quantile_threshold_matches_the_held_out_scores(photo_folders, tmp_path) -> None:
    # with a 10 % target the threshold sits just above the 90 % quantile of the out-of-fold scores
    card = fit_detector(photo_folders["normals"], tmp_path, config=FitConfig(false_alarm=0.25, **FAST))
    hist = card["metrics"]["score_histogram"]
    n = card["metrics"]["n_normals"]
    above = card["metrics"]["heldout_false_alarm"] * n
    assert above == int(round(above)) and above <= 0.25 * n
    assert hist["edges"][0] <= card["threshold"] <= hist["edges"][-1] + 1e-6


def test_relative_score_is_fitted_and_stored(photo_folders, tmp_path) -> None:
    card = fit_detector(photo_folders["normals"], tmp_path, config=FitConfig(score="topk_relative", **FAST))
    assert card["score_method"]["method"] == "topk_relative"
    detector = AnomalyDetector.from_checkpoint(str(tmp_path / "rgb_padim.safetensors"))
    from core.imageio import load_image

    assert np.isfinite(detector.predict(load_image(_good(photo_folders["normals"]), "rgb"))["score"])
    with pytest.raises(InputError, match="--score: unknown score method 'median'"):
        fit_detector(photo_folders["normals"], tmp_path, config=FitConfig(score="median", **FAST))


def test_too_few_normals_is_one_clear_error(photo_folders, tmp_path) -> None:
    few = tmp_path / "few"
    few.mkdir()
    for path in collect_photos(photo_folders["normals"])[:3]:
        shutil.copy(path, few / path.name)
    with pytest.raises(InputError, match="at least"):
        fit_detector(few, tmp_path / "out", config=FitConfig(**FAST))


def test_fit_rgb_cli_then_inspect(photo_folders, tmp_path, capsys) -> None:
    from inspector.cli import main

    code = main(["fit", "rgb", "--normals", str(photo_folders["normals"]), "--detector", "padim", "--folds", "2",
                 "--out", str(tmp_path)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["rule"] == "false_alarm_quantile"
    photo = _good(photo_folders["normals"])
    code = main(["inspect", "--rgb", str(photo), "--rgb-checkpoint", summary["checkpoint"], "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["rgb"]["ood_score"] is not None
    assert "needs_review" in result and result["rgb"]["threshold"] == pytest.approx(summary["threshold"])
    # a noise "photo": flagged for review, and farther from the fitted normals than a normal photo
    import cv2

    noise = tmp_path / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8))
    code = main(["inspect", "--rgb", str(noise), "--rgb-checkpoint", summary["checkpoint"], "--json"])
    flagged = json.loads(capsys.readouterr().out)
    assert code == 0 and flagged["needs_review"] and "rgb_noise_like" in flagged["review_reasons"]
    assert flagged["rgb"]["ood_score"] > result["rgb"]["ood_score"]
