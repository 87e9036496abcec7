"""GAIN-MTL task: presets, a two-epoch smoke run of every strategy, evaluation, the ablation."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from core.errors import ConfigError
from training.config import to_dict
from training.tasks.gain import (
    choose_threshold,
    evaluate,
    evaluate_from_cli,
    load_gain_config,
    load_gain_model,
    train,
)

PRESETS = Path(__file__).resolve().parents[3] / "training" / "configs" / "gain"
STRATEGIES = [f"S{i}" for i in range(1, 9)]
CONTRACT_KEYS = {"accuracy", "recall", "f1", "cam_iou", "point_game", "energy_inside", "loc_iou"}
CONTRACT_KEYS |= {"n_images", "n_defect_images"}
# tiny network and data so that two epochs take seconds
TINY = {
    "model.encoder_width": 8,
    "model.decoder_channels": 8,
    "model.detail_channels": 4,
    "data.input_size": 64,
    "data.batch_size": 8,
    "data.limit": 24,
    "train.epochs": 2,
    "train.progress_bar": False,
}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_presets_differ_from_base_only_in_losses_and_curriculum(strategy: str) -> None:
    base = to_dict(load_gain_config(PRESETS / "base.yaml"))
    preset = to_dict(load_gain_config(PRESETS / f"{strategy}.yaml"))
    differing = {k for k in base if base[k] != preset[k]}
    assert differing <= {"strategy", "description", "losses", "curriculum"}
    assert preset["strategy"] == strategy


def test_presets_follow_seed_001() -> None:
    terms = {s: set(load_gain_config(PRESETS / f"{s}.yaml").loss_terms()) for s in STRATEGIES}
    assert terms["S1"] == {"cls"}
    assert terms["S2"] == {"cls", "cam_guide"}
    assert terms["S3"] == {"cls", "attention_mining", "guide"}
    assert terms["S4"] == terms["S3"] | {"localisation", "consistency"}
    assert terms["S5"] == terms["S4"] | {"counterfactual"}
    assert terms["S6"] == terms["S5"]
    assert terms["S7"] == terms["S3"] | {"counterfactual"}
    assert terms["S8"] == terms["S7"]
    s4 = load_gain_config(PRESETS / "S4.yaml").loss_terms()
    assert (s4["guide"].weight, s4["localisation"].weight, s4["localisation"].warmup) == (1.5, 0.2, 0.5)
    for s in STRATEGIES:
        alpha = load_gain_config(PRESETS / f"{s}.yaml").curriculum.alpha_start
        assert alpha == (0.5 if s in ("S6", "S8") else 0.0)


def test_unknown_loss_and_key_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"base": str(PRESETS / "base.yaml"), "losses": {"nope": {"weight": 1}}}))
    with pytest.raises(ConfigError, match="nope"):
        load_gain_config(bad)
    bad.write_text(yaml.safe_dump({"base": str(PRESETS / "base.yaml"), "modle": {}}))
    with pytest.raises(ConfigError, match="modle"):
        load_gain_config(bad)


def _smoke(strategy: str, data: Path, out: Path) -> dict:
    config = load_gain_config(PRESETS / f"{strategy}.yaml", TINY)
    summary = train(config, data, out)
    assert summary.epochs_run == 2
    assert summary.last_path is not None and summary.last_path.is_file()
    model, card = load_gain_model(summary.last_path)
    assert card["task"] == "gain" and card["strategy"] == strategy
    assert card["class_names"] == ["normal", "defect"] and 0 < card["threshold"] < 1
    history = json.loads((out / "history.json").read_text())
    assert all(h["train_loss"] == h["train_loss"] for h in history)  # finite, not NaN
    metrics = evaluate(model, card, data, split="test_shift")
    assert CONTRACT_KEYS <= set(metrics)
    return metrics


def test_two_epoch_smoke_run_full_strategy(tiny_shortcut_dataset: Path, tmp_path: Path) -> None:
    metrics = _smoke("S6", tiny_shortcut_dataset, tmp_path / "s6")
    assert metrics["n_defect_images"] > 0
    assert metrics["loc_iou"] is not None


@pytest.mark.slow
@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "S6"])
def test_two_epoch_smoke_run_every_strategy(
    strategy: str, tiny_shortcut_dataset: Path, tmp_path: Path
) -> None:
    _smoke(strategy, tiny_shortcut_dataset, tmp_path / strategy)


def test_evaluate_from_cli_writes_contract_keys(tiny_shortcut_dataset: Path, tmp_path: Path) -> None:
    config = load_gain_config(PRESETS / "S1.yaml", {**TINY, "train.epochs": 1})
    summary = train(config, tiny_shortcut_dataset, tmp_path / "run")
    args = argparse.Namespace(
        checkpoint=str(summary.last_path), data=str(tiny_shortcut_dataset), split="test", limit=None
    )
    metrics = evaluate_from_cli(args)
    assert CONTRACT_KEYS <= set(metrics)
    assert metrics["split"] == "test"


def test_choose_threshold_keeps_the_required_recall() -> None:
    probs = np.array([0.9, 0.8, 0.3, 0.2, 0.6, 0.1])
    labels = np.array([1, 1, 1, 0, 1, 0])
    assert choose_threshold(probs, labels, 0.75) == pytest.approx(0.6)
    assert choose_threshold(probs, labels, 1.0) == pytest.approx(0.3)
    assert choose_threshold(probs, labels, 0.5) == pytest.approx(0.8)
    assert choose_threshold(probs, np.zeros(6), 0.9, default=0.4) == 0.4


def test_ablation_writes_report_and_resumes(tiny_shortcut_dataset: Path, tmp_path: Path) -> None:
    from training.ablation import AblationPlan, run_ablation

    plan = AblationPlan(strategies=["S1", "S2"], overrides={**TINY, "train.epochs": 1}, gallery_images=2)
    summary = run_ablation(tiny_shortcut_dataset, tmp_path, plan, progress=False)
    assert set(summary["strategies"]) == {"S1", "S2"}
    for name in ("ablation.md", "results.json", "ablation.html", "gallery.png", "gallery_S1.png"):
        assert (tmp_path / name).is_file(), name
    table = (tmp_path / "ablation.md").read_text()
    assert "| **CAM-IoU** |" in table and "S1 shift" in table
    assert summary["wall_seconds"] > 0 and "Whole ablation:" in table
    result = tmp_path / "runs" / "S1_seed0" / "result.json"
    stamp = result.stat().st_mtime_ns
    resumed = run_ablation(tiny_shortcut_dataset, tmp_path, plan, progress=False)  # all done: no retraining
    assert result.stat().st_mtime_ns == stamp
    assert resumed["wall_seconds"] is None  # nothing was trained: no wall time to report
    assert [c["runs"] for c in resumed["sessions"]] == [2]  # the first call's cost is kept
    extended = dataclasses.replace(plan, extra_seeds=[1], multi_seed=["S2"])
    more = run_ablation(tiny_shortcut_dataset, tmp_path, extended, progress=False)
    assert more["strategies"]["S2"]["seeds"] == [0, 1] and more["wall_seconds"] is None
    assert [c["runs"] for c in more["sessions"]] == [2, 1]
    assert "Trained over 2 call(s): 2 run(s) in" in (tmp_path / "ablation.md").read_text()


@pytest.mark.slow
def test_parallel_ablation_gives_the_same_results_as_serial(tiny_shortcut_dataset: Path, tmp_path: Path) -> None:
    """Two worker processes: same runs, same metrics (each run is seeded), report in plan order."""
    from training.ablation import AblationPlan, run_ablation

    plan = AblationPlan(strategies=["S1", "S3"], overrides={**TINY, "train.epochs": 1}, gallery_images=2)
    serial = run_ablation(tiny_shortcut_dataset, tmp_path / "serial", plan, progress=False)
    parallel = run_ablation(tiny_shortcut_dataset, tmp_path / "parallel", plan, progress=False, workers=2)
    assert [(r["strategy"], r["seed"]) for r in parallel["runs"]] == [("S1", 0), ("S3", 0)]
    for a, b in zip(serial["runs"], parallel["runs"]):
        assert a["metrics"]["test"]["accuracy"] == pytest.approx(b["metrics"]["test"]["accuracy"])
        assert a["metrics"]["test"]["cam_iou"] == pytest.approx(b["metrics"]["test"]["cam_iou"], abs=1e-6)


def test_decoder_stride_has_one_default():
    import inspect

    from models.gain_mtl import DEFAULT_DECODER_STRIDE, GainMTL, MultiScaleDecoder
    from training.tasks.gain import GainModelConfig

    model_default = inspect.signature(GainMTL).parameters["decoder_stride"].default
    decoder_default = inspect.signature(MultiScaleDecoder).parameters["out_stride"].default
    assert GainModelConfig().decoder_stride == model_default == decoder_default == DEFAULT_DECODER_STRIDE
    assert load_gain_config(PRESETS / "base.yaml").model.decoder_stride == DEFAULT_DECODER_STRIDE


def test_gain_split_takes_several_folders_a_window_and_scanner_augmentation(tiny_shortcut_dataset: Path) -> None:
    from training.tasks.gain.data import GainSplit

    one = GainSplit(tiny_shortcut_dataset, "train", 32)
    both = GainSplit([tiny_shortcut_dataset, tiny_shortcut_dataset], "train", 32, intensity="percentile")
    assert len(both) == 2 * len(one)
    assert both.images.min() == 0.0 and both.images.max() == 1.0  # windowed per slice
    assert one.images.max() < 1.0  # the raw slices never reach full scale
    torch.manual_seed(0)
    scanned = GainSplit(tiny_shortcut_dataset, "train", 32, augment="flip_scanner", intensity="percentile")
    changed = sum(
        not torch.equal(scanned[i]["image"], scanned.images[i]) and not torch.equal(scanned[i]["image"].flip(-1), scanned.images[i])
        for i in range(8)
    )
    assert changed >= 4
    sample = scanned[0]
    assert sample["image"].shape == (1, 32, 32) and 0.0 <= float(sample["image"].min()) <= float(sample["image"].max()) <= 1.0
