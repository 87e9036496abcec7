"""YAML -> dataclasses: defaults, validation errors naming the key, overrides, round trip."""

from dataclasses import dataclass, field

import pytest

from core.errors import ConfigError
from training.config import (
    DataConfig,
    LossConfig,
    ModelConfig,
    TrainConfig,
    apply_overrides,
    from_dict,
    load_config,
    param,
    save_config,
)


@dataclass
class ToyConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def _write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_defaults_and_nested_values(tmp_path):
    cfg = load_config(
        _write(
            tmp_path,
            "model: {architecture: cbam}\n"
            "train:\n  lr: 1e-4\n  epochs: 3\n  scheduler: {name: cosine, t_0: 2}\n  betas: [0.8, 0.9]\n"
            "loss: {class_weights: [1, 2, 1, 1, 8]}\n",
        ),
        ToyConfig,
    )
    assert cfg.model.architecture == "cbam"
    assert cfg.train.lr == pytest.approx(1e-4)  # YAML reads 1e-4 as a string; still a float
    assert cfg.train.scheduler.name == "cosine" and cfg.train.scheduler.t_0 == 2
    assert cfg.train.betas == (0.8, 0.9)
    assert cfg.loss.class_weights == [1.0, 2.0, 1.0, 1.0, 8.0]
    assert cfg.data.batch_size == DataConfig().batch_size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train: {epochz: 3}", "unknown config key 'train.epochz'"),
        ("trian: {}", "unknown config key 'trian'"),
        ("train: {epochs: three}", "'train.epochs' must be int"),
        ("train: {epochs: 0}", "'train.epochs' must be greater than 0"),
        ("train: {epochs: 2.5}", "'train.epochs' must be int"),
        ("train: {amp: 1}", "'train.amp' must be bool"),
        ("train: {scheduler: {name: step}}", "'train.scheduler.name' must be"),
        ("loss: {label_smoothing: 1.0}", "'loss.label_smoothing' must be less than 1"),
        ("loss: {class_weights: [1, x]}", "'loss.class_weights'"),
        ("train: {betas: [0.9]}", "'train.betas' must have 2 items"),
        ("train: 3", "section 'train' must be a mapping"),
        ("[1, 2]", "section 'top level' must be a mapping"),
        ("train: {lr: [", "not valid YAML at line"),
    ],
)
def test_bad_configs_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config(_write(tmp_path, text), ToyConfig)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml", ToyConfig)


def test_empty_file_gives_defaults(tmp_path):
    assert load_config(_write(tmp_path, ""), ToyConfig) == ToyConfig()


def test_overrides_are_validated():
    cfg = apply_overrides(ToyConfig(), {"train.epochs": 2, "train.seed": 7})
    assert (cfg.train.epochs, cfg.train.seed) == (2, 7)
    with pytest.raises(ConfigError, match="unknown config key 'train.nope'"):
        apply_overrides(ToyConfig(), {"train.nope": 1})
    with pytest.raises(ConfigError, match="'train.epochs' must be greater than 0"):
        apply_overrides(ToyConfig(), {"train.epochs": -1})


def test_round_trip_through_yaml(tmp_path):
    cfg = apply_overrides(ToyConfig(), {"train.epochs": 4, "loss.class_weights": [1, 2, 3, 4, 5]})
    save_config(cfg, tmp_path / "resolved.yaml")
    assert load_config(tmp_path / "resolved.yaml", ToyConfig) == cfg


def test_new_sections_are_just_dataclasses():
    @dataclass
    class AE:
        latent: int = param(8, gt=0)

    @dataclass
    class Extended:
        ae: AE = field(default_factory=AE)
        train: TrainConfig = field(default_factory=TrainConfig)

    assert from_dict(Extended, {"ae": {"latent": 16}}).ae.latent == 16
    with pytest.raises(ConfigError, match="'ae.latent' must be greater than 0"):
        from_dict(Extended, {"ae": {"latent": 0}})
