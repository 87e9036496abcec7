"""CT task end to end on the tiny generated dataset: train, calibrate, evaluate, bad input."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from core.checkpoint import load_card, update_card
from core.errors import ConfigError, InputError
from inspector.cli import main as cli
from training.config import LossConfig
from training.tasks.ct import CLASS_NAMES, class_weights, evaluate, load_ct_model

CONTRACT_KEYS = {"accuracy", "macro_f1", "roc_auc", "per_class", "confusion_matrix", "binary"}

TINY_CONFIG = """
model: {architecture: resnet18}
data: {input_size: 32, batch_size: 8, num_workers: 0, augment: ct, crop: false}
loss: {name: focal, gamma: 2.0, label_smoothing: 0.1, class_weights: auto}
train:
  epochs: 2
  lr: 1.0e-3
  max_steps_per_epoch: 2
  tensorboard: true
  tensorboard_images: 1
  progress_bar: false
  scheduler: {warmup_epochs: 0.5, t_0: 1}
"""


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("ct_config") / "tiny.yaml"
    path.write_text(TINY_CONFIG)
    return path


@pytest.fixture(scope="module")
def trained_run(tiny_dataset, tiny_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("ct_run")
    assert (
        cli(["train", "ct", "--config", str(tiny_config), "--data", str(tiny_dataset), "--out", str(out)])
        == 0
    )
    return out


@pytest.fixture(scope="module")
def trained_compact(tiny_dataset, tmp_path_factory):
    config = tmp_path_factory.mktemp("compact_config") / "compact.yaml"
    config.write_text(
        TINY_CONFIG.replace(
            "model: {architecture: resnet18}", "model: {architecture: compact, kwargs: {use_meta: false}}"
        ).replace("epochs: 2", "epochs: 1")
    )
    out = tmp_path_factory.mktemp("compact_run")
    assert cli(["train", "ct", "--config", str(config), "--data", str(tiny_dataset), "--out", str(out)]) == 0
    return out


def test_training_writes_a_calibrated_contract_checkpoint(trained_run, tiny_dataset):
    for name in (
        "best.safetensors",
        "best.json",
        "last.safetensors",
        "config.yaml",
        "history.json",
        "train.log",
    ):
        assert (trained_run / name).is_file(), name
    assert any((trained_run / "tb").iterdir())  # TensorBoard events
    card = load_card(trained_run / "best")
    assert card["task"] == "ct" and card["architecture"] == "resnet18"
    assert card["class_names"] == list(CLASS_NAMES)
    assert card["input_size"] == 32 and card["normalisation"] == {"mean": [0.5], "std": [0.25]}
    assert card["data_fingerprint"]["n_rows"] == len(pd.read_csv(tiny_dataset / "manifest.csv"))
    assert card["temperature"] > 0 and card["metrics"]["calibration"]["fitted_on"] == "val"
    assert "macro_f1" in card["metrics"]["val"]
    assert card["config"]["loss"]["class_weights"] == "auto"
    history = json.loads((trained_run / "history.json").read_text())
    assert len(history) == 2 and "val_f1_module_resin_overflow" in history[0]
    model, _ = load_ct_model(trained_run / "best.safetensors")
    assert not model.training


def test_evaluate_cli_writes_contract_json_and_report(trained_run, tiny_dataset, tmp_path, capsys):
    out = tmp_path / "eval.json"
    report = tmp_path / "report"
    args = [
        "evaluate",
        "ct",
        "--checkpoint",
        str(trained_run / "best.safetensors"),
        "--data",
        str(tiny_dataset),
    ]
    assert cli([*args, "--split", "test", "--json", str(out), "--report", str(report)]) == 0
    metrics = json.loads(out.read_text())
    assert CONTRACT_KEYS | {"ece_before", "ece_after", "temperature"} <= set(metrics)
    assert set(metrics["per_class"]) == set(CLASS_NAMES)
    test_rows = pd.read_csv(tiny_dataset / "manifest.csv").query("modality == 'ct' and split == 'test'")
    assert sum(map(sum, metrics["confusion_matrix"])) == len(test_rows) == metrics["n_images"]
    assert {"defect_recall", "defect_precision", "normal_recall"} <= set(metrics["binary"])
    assert 0 <= metrics["macro_f1"] <= 1 and 0 <= metrics["ece_after"] <= 1
    text = (report / "report.md").read_text()
    assert "| cell_porosity |" in text and "Confusion matrix" in text and "ECE before" in text
    assert (report / "confusion_matrix.png").stat().st_size > 1000 and (report / "roc.png").is_file()
    assert '"macro_f1"' in capsys.readouterr().out


def test_temperature_from_the_card_is_used(trained_run, tiny_dataset, tmp_path):
    shutil.copy(trained_run / "best.safetensors", tmp_path / "m.safetensors")
    shutil.copy(trained_run / "best.json", tmp_path / "m.json")
    update_card(tmp_path / "m", temperature=3.0)
    metrics = evaluate(tmp_path / "m.safetensors", tiny_dataset, "val")
    assert metrics["temperature"] == 3.0


def test_wrong_architecture_is_a_one_line_error(trained_run, tiny_dataset, tmp_path, capsys):
    for arch in ("cbam", "rgb"):
        shutil.copy(trained_run / "best.safetensors", tmp_path / "m.safetensors")
        card = json.loads((trained_run / "best.json").read_text())
        card.update({"architecture": "cbam"} if arch == "cbam" else {"task": "rgb"})
        (tmp_path / "m.json").write_text(json.dumps(card))
        args = [
            "evaluate",
            "ct",
            "--checkpoint",
            str(tmp_path / "m.safetensors"),
            "--data",
            str(tiny_dataset),
        ]
        assert cli([*args, "--json", str(tmp_path / "e.json")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
        assert ("do not match architecture 'cbam'" in err) if arch == "cbam" else ("not a ct one" in err)


def test_missing_checkpoint_and_broken_config(tiny_dataset, tmp_path, capsys):
    args = ["evaluate", "ct", "--checkpoint", str(tmp_path / "none.safetensors"), "--data", str(tiny_dataset)]
    assert cli([*args, "--json", str(tmp_path / "e.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {epochs: 2, lr: fast}\n")
    args = ["train", "ct", "--config", str(bad), "--data", str(tiny_dataset), "--out", str(tmp_path / "r")]
    assert cli(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: config key 'train.lr' must be float, got 'fast'"


def test_dataset_missing_a_class_is_refused(tiny_dataset, tiny_config, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(tiny_dataset, data)
    df = pd.read_csv(data / "manifest.csv", keep_default_na=False)
    df[df["label"] != "module_resin_overflow"].to_csv(data / "manifest.csv", index=False)
    args = ["train", "ct", "--config", str(tiny_config), "--data", str(data), "--out", str(tmp_path / "r")]
    assert cli(args) == 2
    err = capsys.readouterr().err.strip()
    assert "has no images of class module_resin_overflow" in err and "\n" not in err


def test_class_weight_options():
    counts = [10, 5, 10, 10, 1]
    assert class_weights(LossConfig(class_weights=None), counts) is None
    assert class_weights(LossConfig(class_weights=[1, 2, 1, 1, 8]), counts) == [1, 2, 1, 1, 8]
    auto = class_weights(LossConfig(class_weights="auto"), counts)
    assert auto[4] > auto[1] > auto[0] and sum(auto) == pytest.approx(5.0, rel=1e-3)
    with pytest.raises(ConfigError, match="'loss.class_weights' has 2 values for 5 classes"):
        class_weights(LossConfig(class_weights=[1, 2]), counts)


def test_empty_split_is_an_input_error(tiny_dataset):
    from training.tasks.ct import CTDataConfig, make_dataset

    with pytest.raises(InputError):
        make_dataset(tiny_dataset, "nosuchsplit", CTDataConfig(), train=False)


def test_hierarchical_coarse_loss_is_added():
    import torch

    from training.config import from_dict
    from training.tasks.ct import CTConfig, CTTask, build_loss, build_model

    config = from_dict(CTConfig, {"model": {"architecture": "hierarchical"}, "loss": {"coarse_weight": 0.5}})
    model = build_model(config.model)
    task = CTTask(model, build_loss(config.loss, [1] * 5), config)
    batch = {
        "image": torch.rand(4, 1, 32, 32),
        "meta": torch.zeros(4, 2),
        "label": torch.tensor([0, 1, 3, 4]),
    }
    with_aux = task.training_step(batch, 0.0)
    assert with_aux["coarse_loss"] > 0
    config.loss.coarse_weight = 0.0
    model.eval()  # same forward twice: no dropout noise
    without = task.training_step(batch, 0.0)
    config.loss.coarse_weight = 0.5
    with_aux = task.training_step(batch, 0.0)
    expected = float(without["loss"].detach()) + 0.5 * float(with_aux["coarse_loss"])
    assert float(with_aux["loss"].detach()) == pytest.approx(expected, rel=1e-4)


def test_mask_loss_trains_a_head_that_is_not_saved(tmp_path):
    import torch

    from training.config import from_dict
    from training.tasks.ct import CTConfig, CTTask, build_loss, build_model

    config = from_dict(CTConfig, {"model": {"architecture": "resnet18"}, "loss": {"mask_weight": 1.0}})
    model = build_model(config.model)
    task = CTTask(model, build_loss(config.loss, [1] * 5), config)
    assert len(task.parameters()) == len(list(model.parameters())) + 2  # + 1x1 conv weight and bias
    mask = torch.zeros(2, 1, 64, 64)
    mask[1, 0, 5:8, 40:43] = 1.0  # a 3-px void lands in one cell of the 2x2 feature grid
    batch = {"image": torch.rand(2, 1, 64, 64), "mask": mask, "label": torch.tensor([0, 1])}
    out = task.training_step(batch, 0.0)
    assert out["mask_loss"] > 0
    target = torch.nn.functional.adaptive_max_pool2d(mask, (2, 2))
    assert target[1, 0].tolist() == [[0.0, 1.0], [0.0, 0.0]] and target[0].sum() == 0
    assert not any("mask_head" in k for k in task.model.state_dict())
    with pytest.raises(ConfigError, match="cannot be combined"):
        from_dict(CTConfig, {"loss": {"mask_weight": 1.0, "coarse_weight": 1.0}})


def test_warm_start_needs_the_same_architecture(trained_run, tiny_dataset, tmp_path, capsys):
    config = tmp_path / "warm.yaml"
    config.write_text(
        TINY_CONFIG.replace("architecture: resnet18", "architecture: cbam").replace(
            "model: {architecture: cbam}",
            f"model: {{architecture: cbam, init_from: '{trained_run / 'best.safetensors'}'}}",
        )
    )
    args = ["train", "ct", "--config", str(config), "--data", str(tiny_dataset), "--out", str(tmp_path / "r")]
    assert cli(args) == 2
    assert "holds architecture 'resnet18', expected 'cbam'" in capsys.readouterr().err


def test_training_fits_the_review_density(trained_run):
    from inspector.review import split_review_state

    card = load_card(trained_run / "best")
    review = card["review"]
    assert review["ood_threshold"] == pytest.approx(review["val_quantile"] * review["margin"])
    assert review["fitted_on"] == {"density": "train", "threshold": "val"}
    from core.checkpoint import load_checkpoint

    state, _ = load_checkpoint(trained_run / "best")
    _, tensors = split_review_state(state)
    assert set(tensors) == {"review.means", "review.precision"}
    assert tensors["review.means"].shape[0] == len(CLASS_NAMES)


def test_evaluate_reports_review_calibration_void_sizes_and_battery_intervals(trained_run, tiny_dataset):
    metrics = evaluate(trained_run / "best.safetensors", tiny_dataset, "test", bootstrap=50)
    assert metrics["ece"] == metrics["ece_after"]
    flagged = metrics["n_images"] - metrics["n_unflagged"]
    assert metrics["review_rate"] == pytest.approx(flagged / metrics["n_images"])
    assert sum(metrics["review_reasons"].values()) >= flagged
    assert metrics["accuracy_unflagged"] is None or 0 <= metrics["accuracy_unflagged"] <= 1
    buckets = metrics["recall_by_void_size"]
    test_rows = pd.read_csv(tiny_dataset / "manifest.csv").query(
        "modality == 'ct' and split == 'test' and label.str.endswith('_porosity')", engine="python"
    )
    assert sum(buckets[b]["n"] for b in ("area<10", "area10-50", "area>50")) == len(test_rows)
    ci = metrics["ci"]["macro_f1"]
    batteries = pd.read_csv(tiny_dataset / "manifest.csv").query("modality == 'ct' and split == 'test'")
    assert ci["n_batteries"] == batteries["battery_id"].nunique()
    assert ci["low"] is None or ci["low"] <= ci["value"] <= ci["high"]


def test_evaluate_several_datasets_counts_every_image(trained_run, tiny_dataset, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_dataset, copy)
    one = evaluate(trained_run / "best.safetensors", tiny_dataset, "test", bootstrap=0)
    both = evaluate(trained_run / "best.safetensors", [tiny_dataset, copy], "test", bootstrap=0)
    assert both["n_images"] == 2 * one["n_images"]
    assert both["data"] == [str(tiny_dataset), str(copy)] and "ci" not in both


def test_several_data_folders_only_for_ct(tiny_dataset, tmp_path, capsys):
    code = cli(
        ["evaluate", "rgb", "--checkpoint", "x.safetensors", "--data", str(tiny_dataset), "--data", str(tiny_dataset), "--json", str(tmp_path / "o.json")]
    )
    assert code != 0 and "takes one --data folder" in capsys.readouterr().err


def test_warm_start_from_a_checkpoint_with_review_statistics(trained_run, tiny_dataset, tmp_path):
    config = tmp_path / "warm.yaml"
    config.write_text(
        TINY_CONFIG.replace(
            "model: {architecture: resnet18}",
            f"model: {{architecture: resnet18, init_from: '{trained_run / 'best.safetensors'}'}}",
        ).replace("epochs: 2", "epochs: 1")
    )
    out = tmp_path / "warm_run"
    assert cli(["train", "ct", "--config", str(config), "--data", str(tiny_dataset), "--out", str(out)]) == 0
    assert load_card(out / "best")["review"]["ood_threshold"] > 0


def test_synth_ood_and_fit_review_write_a_policy_into_the_card(trained_run, tiny_dataset, tmp_path, capsys):
    ckpt = tmp_path / "m"
    for suffix in (".safetensors", ".json"):
        shutil.copy(trained_run / f"best{suffix}", ckpt.with_suffix(suffix))
    ood = tmp_path / "ood"
    assert cli(["synth-ood", "--out", str(ood), "--from", str(tiny_dataset), "--per-case", "2"]) == 0
    assert len(pd.read_csv(ood / "ood.csv")) == 12
    capsys.readouterr()
    args = ["fit-review", "--checkpoint", str(ckpt.with_suffix(".safetensors")), "--ood", str(ood)]
    assert cli([*args, "--data", str(tiny_dataset), "--limit", "6", "--write"]) == 0
    chosen = json.loads(capsys.readouterr().out)["chosen"]
    review = load_card(ckpt)["review"]
    assert review["policy_chosen_on"]["margin"] == chosen["margin"] == review["margin"]
    assert review["ood_threshold"] == pytest.approx(review["val_quantile"] * chosen["margin"])
    assert cli(["fit-review", "--checkpoint", str(ckpt.with_suffix(".safetensors")), "--ood", str(tmp_path), "--data", str(tiny_dataset)]) == 2
    assert "has no ood.csv" in capsys.readouterr().err


def test_fit_calibration_with_class_bias_is_stored_and_used(trained_run, tiny_dataset, tmp_path, capsys):
    ckpt = tmp_path / "m"
    for suffix in (".safetensors", ".json"):
        shutil.copy(trained_run / f"best{suffix}", ckpt.with_suffix(suffix))
    args = ["fit-calibration", "--checkpoint", str(ckpt.with_suffix(".safetensors")), "--data", str(tiny_dataset)]
    assert cli([*args, "--method", "temperature_bias"]) == 0
    printed = json.loads(capsys.readouterr().out)
    card = load_card(ckpt)
    assert printed["method"] == card["metrics"]["calibration"]["method"] == "temperature_bias"
    assert len(card["class_bias"]) == len(CLASS_NAMES) and card["class_bias"][-1] == 0.0
    assert card["temperature"] == pytest.approx(printed["temperature"])
    assert evaluate(ckpt.with_suffix(".safetensors"), tiny_dataset, "val")["class_bias"] == card["class_bias"]
    # temperature alone clears the bias again
    assert cli([*args, "--method", "temperature"]) == 0
    assert load_card(ckpt)["class_bias"] is None
    assert cli([*args, "--method", "isotonic"]) == 2
    assert "unknown --method 'isotonic'" in capsys.readouterr().err


def test_compact_seg_trains_its_own_mask_head(tmp_path):
    import torch

    from training.config import from_dict
    from training.tasks.ct import CTConfig, CTTask, build_loss, build_model

    config = from_dict(CTConfig, {"model": {"architecture": "compact_seg"}, "loss": {"mask_weight": 1.0}})
    model = build_model(config.model)
    task = CTTask(model, build_loss(config.loss, [1] * 5), config)
    assert task.mask_head is None and len(task.parameters()) == len(list(model.parameters()))
    mask = torch.zeros(2, 1, 64, 64)
    mask[1, 0, 20:24, 40:44] = 1.0
    batch = {"image": torch.rand(2, 1, 64, 64), "mask": mask, "label": torch.tensor([0, 1])}
    out = task.training_step(batch, 0.0)
    out["loss"].backward()
    assert out["mask_loss"] > 0
    assert model.seg_head.weight.grad is not None and model.seg_head.weight.grad.abs().sum() > 0
    assert any(k.startswith("seg_head.") for k in model.state_dict())  # the head ships: it drives the verdict


def test_partial_warm_start_copies_the_shared_encoder(trained_compact, tiny_dataset, tmp_path):
    import torch

    from core.checkpoint import load_checkpoint
    from training.tasks.ct import load_ct_model

    config = tmp_path / "warm.yaml"
    config.write_text(
        TINY_CONFIG.replace(
            "model: {architecture: resnet18}",
            f"model: {{architecture: compact_seg, kwargs: {{use_meta: false}}, init_partial: true, "
            f"init_from: '{trained_compact / 'best.safetensors'}'}}",
        )
        .replace("epochs: 2", "epochs: 1")
        .replace("lr: 1.0e-3", "lr: 1.0e-12")  # the encoder must arrive unchanged
        .replace("class_weights: auto", "class_weights: null")
    )
    out = tmp_path / "seg_run"
    assert cli(["train", "ct", "--config", str(config), "--data", str(tiny_dataset), "--out", str(out)]) == 0
    source, _ = load_checkpoint(trained_compact / "best")
    model, card = load_ct_model(out / "best.safetensors")
    assert card["architecture"] == "compact_seg"
    own = model.state_dict()
    encoder = [k for k in source if k.startswith("features.") and k.endswith("weight")]
    assert encoder and all(torch.allclose(own[k].float(), source[k].float(), rtol=1e-3, atol=1e-4) for k in encoder)


def test_partial_warm_start_from_an_unrelated_checkpoint_fails(trained_run, tiny_dataset, tmp_path, capsys):
    config = tmp_path / "warm.yaml"
    config.write_text(
        TINY_CONFIG.replace(
            "model: {architecture: resnet18}",
            f"model: {{architecture: compact_seg, init_partial: true, init_from: '{trained_run / 'best.safetensors'}'}}",
        )
    )
    args = ["train", "ct", "--config", str(config), "--data", str(tiny_dataset), "--out", str(tmp_path / "r")]
    assert cli(args) == 2
    assert "partial warm start" in capsys.readouterr().err


def test_evaluate_localisation_scores_the_inspector_attention_on_masked_slices(trained_run, tiny_dataset):
    metrics = evaluate(trained_run / "best.safetensors", tiny_dataset, "test", bootstrap=0, localisation=True)
    loc = metrics["localisation"]
    rows = pd.read_csv(tiny_dataset / "manifest.csv").query("modality == 'ct' and split == 'test'")
    assert loc["n"] == rows["mask_path"].notna().sum() > 0
    for key in ("cam_iou", "point_game", "energy_inside"):
        assert 0.0 <= loc[key] <= 1.0
    assert sum(part["n"] for part in loc["by_engine"].values()) == loc["n"]
    assert "localisation" not in evaluate(trained_run / "best.safetensors", tiny_dataset, "test", bootstrap=0)
