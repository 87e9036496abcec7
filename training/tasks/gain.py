"""GAIN-MTL task: a binary defect classifier trained to look at the defect (seeds 000, 001).

A strategy (S1-S8 of seed 001) is nothing but a config: which losses run with which weight and
warm-up, and whether the GT-mask curriculum runs. The task sums the configured terms; there
is no per-strategy code. Presets live in ``training/configs/gain/`` and inherit
``base.yaml`` through a ``base:`` key::

    python -m inspector train gain --config training/configs/gain/S6.yaml --data data/shortcut0 --out runs/gain_s6
    python -m inspector evaluate gain --checkpoint runs/gain_s6/last.safetensors --data data/shortcut1 --split test_shift --json out.json
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

from core.checkpoint import load_checkpoint, load_state_dict_strict, update_card
from core.errors import CheckpointError, ConfigError, InputError
from training.config import TrainConfig, from_dict, param, to_dict
from training.curriculum import MaskCurriculum, linear_warmup
from training.loop import FitSummary, Trainer, make_generator, seed_everything
from training.losses import create_loss, list_losses
from training.losses.gain_base import GainInputs
from training.metrics.localisation import GainMetrics
from training.tasks import Task, cli_entry_point

log = logging.getLogger(__name__)

__all__ = [
    "CLASS_NAMES",
    "GainConfig",
    "GainSplit",
    "GainTask",
    "choose_threshold",
    "evaluate",
    "evaluate_from_cli",
    "load_gain_config",
    "load_gain_model",
    "predict_maps",
    "train",
    "train_from_cli",
    "tune_threshold",
]

CLASS_NAMES: tuple[str, ...] = ("normal", "defect")
CLASSIFICATION_TERM = "cls"


# --------------------------------------------------------------------------- config


@dataclass
class GainModelConfig:
    """Keyword arguments of :class:`models.gain_mtl.GainMTL` (see its docstring)."""

    encoder: str = "resnet18"
    encoder_width: int = param(64, gt=0)
    output_stride: int = 32
    decoder_channels: int = param(64, gt=0)
    decoder_stride: int = param(2, ge=1)
    detail_channels: int = param(16, gt=0)
    pool: Literal["lse", "avg"] = "lse"
    lse_r: float = param(10.0, gt=0)
    mining_omega: float = param(10.0, gt=0)
    mining_sigma: float = param(0.5, gt=0, lt=1)
    fill_kernel: int = param(11, gt=0)
    pretrained: str | None = None


@dataclass
class GainDataConfig:
    """Data settings. Images are resized (area) to ``input_size`` and cached in memory."""

    input_size: int = param(128, ge=32, le=1024)
    batch_size: int = param(32, gt=1)
    mean: float = 0.5
    std: float = param(0.25, gt=0)
    augment: Literal["flip", "none"] = "flip"
    balance: bool = True  # sample normal and defect images equally often
    train_split: str = "train"
    val_split: str = "val"
    limit: int | None = param(None, gt=0, help="use at most N training images")
    val_limit: int | None = param(None, gt=0, help="use at most N validation images")


@dataclass
class LossTerm:
    """One weighted loss term: ``weight * warmup(progress) * loss``.

    ``name`` is the loss registry name (default: the key of the term); ``warmup`` is the
    fraction of training over which the weight ramps linearly from 0.
    """

    weight: float = param(0.0, ge=0)
    warmup: float = param(0.0, ge=0, le=1)
    name: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class CurriculumConfig:
    """GT-mask curriculum (see :mod:`training.curriculum`); ``alpha_start: 0`` disables it."""

    alpha_start: float = param(0.0, ge=0, le=1)
    end_ratio: float = param(0.7, gt=0, le=1)


@dataclass
class GainEvalConfig:
    """Decision and map thresholds used for validation metrics and stored in the card.

    After training, the decision threshold is tuned on the validation split when
    ``min_recall`` is set: the highest threshold whose validation recall is at least
    ``min_recall`` (missing a defect costs more than a false alarm, seed 000 goal 4).
    """

    threshold: float = param(0.5, gt=0, lt=1)
    min_recall: float | None = param(None, gt=0, le=1, help="tune the threshold on val; null keeps it")
    map_threshold: float = param(0.5, gt=0, lt=1)
    tolerance: int = param(3, ge=0, help="PointGame tolerance in pixels")


@dataclass
class GainConfig:
    """Top-level schema of ``training/configs/gain/*.yaml``."""

    strategy: str = "custom"
    description: str = ""
    model: GainModelConfig = field(default_factory=GainModelConfig)
    data: GainDataConfig = field(default_factory=GainDataConfig)
    losses: dict[str, Any] = field(default_factory=lambda: {CLASSIFICATION_TERM: {"weight": 1.0}})
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    eval: GainEvalConfig = field(default_factory=GainEvalConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def loss_terms(self) -> dict[str, LossTerm]:
        """The validated loss terms, keyed by term name.

        Raises:
            ConfigError: A term that is not a registered loss, or a missing ``cls`` term.
        """
        terms = {k: from_dict(LossTerm, v, prefix=f"losses.{k}") for k, v in self.losses.items()}
        if CLASSIFICATION_TERM not in terms:
            raise ConfigError("config section 'losses' needs a 'cls' term (the classification loss)")
        known = set(list_losses())
        for key, term in terms.items():
            name = term.name or (
                "cross_entropy" if key == CLASSIFICATION_TERM else key
            )  # cls defaults to cross-entropy
            if name not in known:
                raise ConfigError(f"config key 'losses.{key}' names unknown loss {name!r}")
            term.name = name
        return terms


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _read_yaml_with_base(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    if path.resolve() in seen:
        raise ConfigError(f"config file {path} inherits from itself")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping")
    base = data.pop("base", None)
    if base is None:
        return data
    parent = _read_yaml_with_base(path.parent / str(base), (*seen, path.resolve()))
    return _deep_merge(parent, data)


def load_gain_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> GainConfig:
    """Load a GAIN config; a ``base: other.yaml`` key (relative path) is merged underneath.

    Args:
        path: YAML file.
        overrides: Dotted keys, e.g. ``{"train.epochs": 2, "data.limit": 64}``.

    Raises:
        ConfigError: Missing file, bad YAML, unknown key or value, unknown loss.
    """
    from training.config import apply_overrides

    data = _read_yaml_with_base(Path(path))
    config = apply_overrides(from_dict(GainConfig, data), overrides or {})
    config.loss_terms()  # validate early
    return config


# --------------------------------------------------------------------------- data


def _resize(array: np.ndarray, size: int) -> np.ndarray:
    if array.shape[0] == size and array.shape[1] == size:
        return array
    return cv2.resize(array, (size, size), interpolation=cv2.INTER_AREA)


class GainSplit(Dataset):
    """One split of a CT dataset, resized and cached in memory as tensors.

    Images are resized with area interpolation; masks are area-resized and binarised at 0.5,
    so metrics compare maps with the mask at the model's input resolution. The whole split is
    decoded once (the ablation trains many models on the same images).

    Args:
        data_dir: Dataset folder with ``manifest.csv``.
        split: Manifest split.
        input_size: Side of the square model input.
        augment: ``"flip"`` applies random horizontal/vertical flips to image and mask.
        limit: Keep at most this many images, evenly spaced over the split (all classes stay).
    """

    def __init__(
        self,
        data_dir: str | Path,
        split: str,
        input_size: int,
        augment: str = "none",
        limit: int | None = None,
    ) -> None:
        from training.datasets import CTDataset

        source = CTDataset(data_dir, split=split)
        indices = np.arange(len(source))
        if limit and len(indices) > limit:
            indices = np.unique(np.linspace(0, len(source) - 1, limit).round().astype(int))
        n = len(indices)
        self.images = torch.empty(n, 1, input_size, input_size)
        self.masks = torch.empty(n, 1, input_size, input_size)
        self.is_defect = torch.empty(n, dtype=torch.long)
        self.paths: list[str] = []
        for j, i in enumerate(indices):
            sample = source[int(i)]
            self.images[j, 0] = torch.from_numpy(_resize(sample["image"][0].numpy(), input_size))
            mask = _resize(sample["mask"][0].numpy(), input_size)
            self.masks[j, 0] = torch.from_numpy((mask >= 0.5).astype(np.float32))
            self.is_defect[j] = int(sample["is_defect"])
            self.paths.append(sample["path"])
        self.augment = augment
        log.info("cached %d images of split %s from %s at %d px", n, split, data_dir, input_size)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, mask = self.images[index], self.masks[index]
        if self.augment == "flip":
            for dim in (-1, -2):
                if torch.rand(()) < 0.5:
                    image, mask = image.flip(dim), mask.flip(dim)
        return {"image": image, "mask": mask, "is_defect": self.is_defect[index], "index": index}


def make_loader(dataset: GainSplit, cfg: GainDataConfig, seed: int, train: bool) -> DataLoader:
    """Batches of a cached split; training batches balance normal and defect images."""
    sampler = None
    if train and cfg.balance:
        labels = dataset.is_defect.numpy()
        counts = np.bincount(labels, minlength=2).astype(np.float64)
        weights = 1.0 / np.maximum(counts, 1.0)
        sampler = WeightedRandomSampler(
            torch.as_tensor(weights[labels], dtype=torch.double),
            num_samples=len(labels),
            replacement=True,
            generator=make_generator(seed),
        )
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        drop_last=train and len(dataset) > cfg.batch_size,
        generator=make_generator(seed + 1),
    )


# --------------------------------------------------------------------------- task


class _BinaryClassification(nn.Module):
    """Adapter: a registered ``[N, C]`` classification loss applied to one defect logit.

    The logit ``z`` becomes the two-class logits ``[0, z]``, whose softmax is
    ``[1 - sigmoid(z), sigmoid(z)]``; cross-entropy on them is the BCE of ``z``.
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, defect_logit: torch.Tensor, is_defect: torch.Tensor) -> torch.Tensor:
        two = torch.stack([torch.zeros_like(defect_logit), defect_logit], dim=1)
        return self.loss(two, is_defect.long())


class GainTask(Task):
    """Sum of the configured GAIN-MTL loss terms; validation reports every metric of seed 001.

    Args:
        model: A :class:`~models.gain_mtl.GainMTL`.
        config: The full GAIN config.
        data_fingerprint: Fingerprint of the training dataset (stored in the card).
    """

    name = "gain"
    monitor = ("f1", "max")

    def __init__(
        self, model: nn.Module, config: GainConfig, data_fingerprint: Mapping[str, Any] | None = None
    ):
        self.model = model
        self.config = config
        self.data_fingerprint = dict(data_fingerprint or {})
        self.terms = config.loss_terms()
        self.losses = nn.ModuleDict()
        for key, term in self.terms.items():
            loss = create_loss(term.name, **term.kwargs)
            self.losses[key] = _BinaryClassification(loss) if key == CLASSIFICATION_TERM else loss
        self.curriculum = MaskCurriculum(config.curriculum.alpha_start, config.curriculum.end_ratio)

    def _normalise(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.config.data.mean) / self.config.data.std

    def inputs(self, batch: Mapping[str, Any], progress: float) -> GainInputs:
        """Run the model on a batch and gather what the losses need."""
        from models.gain_mtl import defect_evidence, normalise_attention

        image = self._normalise(batch["image"])
        output = self.model(image)
        evidence = defect_evidence(output["cam"])
        attention = normalise_attention(evidence, tuple(image.shape[-2:]))
        mask = batch["mask"]
        return GainInputs(
            model=self.model,
            image=image,
            mask=mask,
            is_defect=batch["is_defect"].float(),
            output=output,
            evidence=evidence,
            attention=attention,
            mining_attention=self.curriculum.fuse(attention, mask, progress),
        )

    def training_step(self, batch: Mapping[str, Any], epoch_progress: float) -> dict[str, Any]:
        inputs = self.inputs(batch, epoch_progress)
        total = inputs.evidence.sum() * 0.0
        scalars: dict[str, Any] = {}
        for key, term in self.terms.items():
            weight = linear_warmup(term.weight, term.warmup, epoch_progress)
            if weight == 0.0:
                continue
            if key == CLASSIFICATION_TERM:
                value = self.losses[key](inputs.defect_logit, inputs.is_defect)
            else:
                value = self.losses[key](inputs)
            total = total + weight * value
            scalars[f"loss_{key}"] = value.detach()
        scalars["alpha"] = self.curriculum.alpha(epoch_progress)
        return {"loss": total, **scalars}

    def validation_step(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        maps = self.predict(batch["image"])
        return {**maps, "is_defect": batch["is_defect"].cpu(), "mask": batch["mask"].cpu()}

    @torch.no_grad()
    def predict(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Defect probability ``[B]``, attention and localisation maps ``[B, 1, H, W]`` (CPU)."""
        inputs = self.inputs(
            {"image": image, "mask": torch.zeros_like(image), "is_defect": image.new_zeros(len(image))}, 1.0
        )
        size = tuple(image.shape[-2:])
        return {
            "prob": torch.sigmoid(inputs.defect_logit).float().cpu(),
            "attention": inputs.attention.float().cpu(),
            "loc": self.model.localisation(inputs.output, size).float().cpu(),
        }

    def validation_end(self, outputs: list[dict[str, Any]]) -> dict[str, float]:
        ev = self.config.eval
        meter = GainMetrics(ev.threshold, ev.map_threshold, ev.tolerance)
        for o in outputs:
            meter.update(o["prob"], o["is_defect"], o["attention"], o["mask"], o["loc"])
        metrics = meter.compute()
        return {k: float(v) for k, v in metrics.items() if v is not None}

    def card(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "task": "gain",
            "architecture": "gain_mtl",
            "model_kwargs": model_kwargs(cfg.model),
            "class_names": list(CLASS_NAMES),
            "input_size": cfg.data.input_size,
            "normalisation": {"mean": [cfg.data.mean], "std": [cfg.data.std]},
            "preprocessing": {"crop": None, "resize": "area"},
            "threshold": cfg.eval.threshold,
            "map_threshold": cfg.eval.map_threshold,
            "strategy": cfg.strategy,
            "config": to_dict(cfg),
            "seed": cfg.train.seed,
            "data_fingerprint": self.data_fingerprint,
        }


def choose_threshold(probs: np.ndarray, labels: np.ndarray, min_recall: float, default: float = 0.5) -> float:
    """The highest decision threshold whose recall on ``(probs, labels)`` is at least ``min_recall``.

    Candidates are the distinct defect-image probabilities (a threshold equal to one keeps that
    image); the result is clipped to ``[0.01, 0.99]``. Without defect images, ``default``.
    """
    positives = np.sort(np.asarray(probs, dtype=np.float64)[np.asarray(labels) == 1])
    if positives.size == 0:
        return default
    # keep at least ceil(min_recall * n) positives above the threshold
    keep = int(np.ceil(min_recall * positives.size - 1e-9))
    threshold = positives[positives.size - keep] if keep > 0 else positives[-1]
    return float(np.clip(threshold, 0.01, 0.99))


def tune_threshold(model: nn.Module, card: Mapping[str, Any], val_set: GainSplit) -> float:
    """Tune the card's decision threshold on ``val_set`` (see :class:`GainEvalConfig`)."""
    config = _config_from_card(card)
    if config.eval.min_recall is None:
        return config.eval.threshold
    probs = []
    for batch in DataLoader(val_set, batch_size=64, shuffle=False):
        probs.append(predict_maps(model, card, batch["image"])["prob"])
    labels = val_set.is_defect.numpy()
    return choose_threshold(torch.cat(probs).numpy(), labels, config.eval.min_recall, config.eval.threshold)


def model_kwargs(cfg: GainModelConfig) -> dict[str, Any]:
    """The :class:`~models.gain_mtl.GainMTL` kwargs of a model config (weights stay out)."""
    kwargs = to_dict(cfg)
    kwargs.pop("pretrained")
    return kwargs


# --------------------------------------------------------------------------- training


def train(
    config: GainConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    splits: Mapping[str, GainSplit] | None = None,
) -> FitSummary:
    """Train one GAIN-MTL model and write the run folder (``last``/``best`` checkpoints, logs).

    Args:
        config: The validated config.
        data_dir: Dataset folder with ``manifest.csv``.
        out_dir: Run folder.
        splits: Already cached ``{"train": ..., "val": ...}`` splits (the ablation reuses them).

    Returns:
        The Trainer's summary.
    """
    from models.gain_mtl import create_gain_model
    from training.fingerprint import dataset_fingerprint

    seed_everything(config.train.seed, config.train.deterministic)
    d = config.data
    splits = dict(splits or {})
    train_set = splits.get("train") or GainSplit(data_dir, d.train_split, d.input_size, d.augment, d.limit)
    val_set = splits.get("val") or GainSplit(data_dir, d.val_split, d.input_size, "none", d.val_limit)
    if train_set.is_defect.unique().numel() < 2:
        raise InputError(f"the {d.train_split} split of {data_dir} needs both normal and defect images")
    model = create_gain_model(**model_kwargs(config.model), pretrained_path=config.model.pretrained)
    task = GainTask(model, config, dataset_fingerprint(data_dir))
    trainer = Trainer(task, config.train, out_dir, resolved_config=config)
    summary = trainer.fit(
        make_loader(train_set, d, config.train.seed, train=True),
        make_loader(val_set, d, config.train.seed, train=False),
    )
    for path in {summary.last_path, summary.best_path} - {None}:
        tuned, card = load_gain_model(path)
        threshold = tune_threshold(tuned, card, val_set)
        update_card(path, threshold=threshold)
        log.info("%s: decision threshold %.3f (tuned on %s)", Path(path).name, threshold, d.val_split)
    return summary


train_from_cli = cli_entry_point("gain", load_gain_config, train, report="last")


# --------------------------------------------------------------------------- inference + evaluation


def load_gain_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Build the GAIN-MTL model of a checkpoint and load its weights (float32, eval mode).

    Raises:
        CheckpointError: Missing files, a non-GAIN checkpoint, or mismatching weights.
    """
    from models.gain_mtl import create_gain_model

    state_dict, card = load_checkpoint(path, task="gain")
    try:
        model = create_gain_model(**dict(card.get("model_kwargs") or {}))
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {Path(path).name} cannot be built: {exc}") from exc
    load_state_dict_strict(model, state_dict, card)
    return model.float().to(device).eval(), card


def _config_from_card(card: Mapping[str, Any]) -> GainConfig:
    try:
        return from_dict(GainConfig, card.get("config") or {})
    except ConfigError as exc:
        raise CheckpointError(f"checkpoint card holds an invalid config: {exc}") from exc


@torch.no_grad()
def predict_maps(model: nn.Module, card: Mapping[str, Any], images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Defect probabilities and maps of raw ``[B, 1, H, W]`` images in ``[0, 1]`` (already resized)."""
    task = GainTask(model, _config_from_card(card))
    model.eval()
    return task.predict(images.to(next(model.parameters()).device))


def evaluate(
    model: nn.Module,
    card: Mapping[str, Any],
    data: str | Path | GainSplit,
    split: str = "test",
    limit: int | None = None,
    batch_size: int = 64,
) -> dict[str, Any]:
    """The contract metrics of one split: accuracy, recall, f1, cam_iou, point_game,
    energy_inside, loc_iou, n_images, n_defect_images.

    Args:
        model: A loaded GAIN-MTL model.
        card: Its checkpoint card (input size, normalisation, thresholds).
        data: Dataset folder, or an already cached :class:`GainSplit`.
        split: Manifest split when ``data`` is a folder.
        limit: Evaluate at most this many images.
        batch_size: Inference batch size.
    """
    config = _config_from_card(card)
    dataset = (
        data if isinstance(data, GainSplit) else GainSplit(data, split, config.data.input_size, "none", limit)
    )
    meter = GainMetrics(float(card.get("threshold") or 0.5), config.eval.map_threshold, config.eval.tolerance)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    for batch in loader:
        maps = predict_maps(model, card, batch["image"])
        meter.update(maps["prob"], batch["is_defect"], maps["attention"], batch["mask"], maps["loc"])
    return meter.compute()


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``python -m inspector evaluate gain --checkpoint ... --data ... --json ...``."""
    if not args.checkpoint:
        raise InputError("evaluate gain needs --checkpoint NAME.safetensors")
    model, card = load_gain_model(args.checkpoint)
    metrics = evaluate(model, card, args.data, split=args.split, limit=args.limit)
    metrics.update(split=args.split, checkpoint=str(args.checkpoint), strategy=card.get("strategy"))
    return metrics
