"""Fit a feature-based RGB detector on a folder of normal photos (``python -m inspector fit rgb``).

The detector (a :mod:`models.rgb_ae` family such as ``patchcore``, ``padim`` or ``stfpm``) is
fitted on the normals. Its threshold is chosen without ever scoring a photo it was fitted on:

- with defect photos: Youden's J over the out-of-fold normal scores and the defect scores;
- without: the quantile of the out-of-fold normal scores that gives the chosen false-alarm rate.

Out-of-fold scores come from k-fold cross-fitting (every normal is scored by a detector fitted
on the other folds); the final detector is then fitted on all normals. The checkpoint
(``rgb_NAME.safetensors`` + card) is what ``inspect --rgb-checkpoint``, ``evaluate rgb`` and the
app load for every RGB model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.errors import CheckpointError, InputError

__all__ = ["BACKBONE_DEFAULT", "IMAGE_SUFFIXES", "FitConfig", "collect_photos", "fit_detector", "load_photos"]

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"})
# the backbone this project trains on synthetic photos (training/tasks/rgb/backbone.py)
# opt-in (--backbone-weights): better on flat photos and pixel maps, not on the held-out photo style
BACKBONE_DEFAULT = Path(__file__).resolve().parents[3] / "checkpoints" / "rgb_backbone_synth.safetensors"
IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
IDENTITY = {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
MIN_NORMALS = 8

Progress = Callable[[float, str], None]


@dataclass
class FitConfig:
    """Settings of one ``fit rgb`` run (recorded in the card).

    Attributes:
        detector: Registered RGB model name.
        false_alarm: Target false-alarm rate on normals when no defect photos are given.
        folds: Cross-fitting folds (``None``: the detector's preset).
        input_size: Side of the battery-box crop (``None``: the detector's preset).
        seed: Seed of the fold split and of the model's random parts.
        limit: Use at most this many normals (first in sorted order); ``None`` = all.
        model_kwargs: Options of the detector factory.
        ood_limit: ``rgb.ood_score`` above this flags ``rgb_out_of_distribution``.
        score: Score method of the anomaly map (:data:`inspector.anomaly.SCORE_METHODS`):
            ``topk`` (the worst 1 % of the map) or ``topk_relative`` (that minus the map's mean).
    """

    detector: str = "patchcore"
    false_alarm: float = 0.01
    folds: int | None = None
    input_size: int | None = None
    seed: int = 0
    limit: int | None = None
    model_kwargs: dict[str, Any] | None = None
    ood_limit: float = 5.0
    score: str = "topk"


def collect_photos(source: str | Path, want: str = "normal") -> list[Path]:
    """Photos of a folder (any nesting) or of a dataset (``manifest.csv``: its RGB rows).

    Args:
        source: A folder of photos, or a dataset folder with ``manifest.csv``.
        want: ``normal`` or ``defect``: which manifest rows (``is_defect``) a dataset gives;
            for a dataset, normals come from the ``train`` split when it has any.

    Raises:
        InputError: ``source`` is not a folder.
    """
    root = Path(source)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder.")
    if (root / "manifest.csv").is_file():
        from core.manifest import read_manifest

        frame = read_manifest(root, check_files=False)
        rows = frame[(frame["modality"] == "rgb") & (frame["is_defect"].astype(int) == (1 if want == "defect" else 0))]
        if want == "normal" and (rows["split"] == "train").any():
            rows = rows[rows["split"] == "train"]
        return [root / p for p in rows["image_path"]]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_photos(paths: Sequence[Path], size: int) -> tuple[np.ndarray, list[Path]]:
    """Decode and crop photos to ``N x size x size x 3`` uint8; unreadable files are skipped with a warning.

    Returns:
        The stacked views and the paths that were read.
    """
    from core.imageio import load_image
    from core.preprocessing import RGBCrop

    crop = RGBCrop(size)
    views, kept = [], []
    for path in paths:
        try:
            views.append(crop(load_image(path, "rgb"))[0])
        except Exception as exc:  # noqa: BLE001 - any broken file is skipped, never a crash
            log.warning("skipping %s: %s", path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            continue
        kept.append(path)
    return (np.stack(views) if views else np.zeros((0, size, size, 3), np.uint8)), kept


def _fingerprint(paths: Sequence[Path]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return {"n_files": len(paths), "sha256": digest.hexdigest()}


def _batches(views: np.ndarray, norm: dict, batch_size: int) -> list[torch.Tensor]:
    mean = torch.tensor(norm["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(norm["std"]).view(1, 3, 1, 1)
    out = []
    for i in range(0, len(views), batch_size):
        x = torch.from_numpy(views[i : i + batch_size]).permute(0, 3, 1, 2).float().div_(255.0)
        out.append((x - mean) / std)
    return out


def _new_detector(cfg: FitConfig, weights: Path | None) -> torch.nn.Module:
    from models.rgb_ae import create_model

    torch.manual_seed(cfg.seed)
    model = create_model(cfg.detector, **(cfg.model_kwargs or {}))
    if not hasattr(model, "fit") or not hasattr(model, "load_backbone_weights"):
        raise InputError(f"RGB model {cfg.detector!r} is not a feature-based detector that fit rgb can fit.")
    if weights is not None:
        model.load_backbone_weights(weights)
    return model


@torch.no_grad()
def _score(model: torch.nn.Module, batches: list[torch.Tensor], score_cfg: Any) -> dict[str, np.ndarray]:
    from inspector.anomaly import anomaly_scores

    scores, peaks, means = [], [], []
    for x in batches:
        maps = model.anomaly_map(x)
        scores.append(anomaly_scores(maps, score_cfg))
        peaks.append(maps.flatten(1).amax(1))
        means.append(maps.flatten(1).mean(1))
    cat = lambda parts: torch.cat(parts).double().numpy()  # noqa: E731
    return {"score": cat(scores), "peak": cat(peaks), "mean": cat(means)}


def fit_detector(
    normals: str | Path,
    out_dir: str | Path,
    defects: str | Path | None = None,
    config: FitConfig | None = None,
    backbone_weights: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit a detector on normal photos, choose its threshold on held-out scores, save checkpoint + card.

    Args:
        normals: Folder of normal photos (any nesting) or a dataset folder (its train normals).
        out_dir: Output folder: ``rgb_DETECTOR.safetensors`` and ``rgb_DETECTOR.json``.
        defects: Optional folder of defect photos (or a dataset: its defect rows): Youden's J.
        config: Detector and fitting settings.
        backbone_weights: Local ``.safetensors`` backbone (ImageNet/DINO, timm key names, or the
            project's ``checkpoints/rgb_backbone_synth.safetensors``); default and ``"none"``:
            random initialisation (the synthetic backbone localises better, but did not rank
            held-out-style photos better: docs/rgb_detectors.md).
        progress: Optional ``callback(fraction in [0, 1], message)``.

    Returns:
        The card written (with the path of the weights under ``checkpoint``).

    Raises:
        InputError: Too few readable normal photos, or a bad option.
        CheckpointError: Unreadable backbone weights.
    """
    from core.checkpoint import save_checkpoint
    from core.preprocessing import RGBCrop
    from inspector.anomaly import ScoreConfig
    from models.rgb_ae import RGB_MODELS

    cfg = config or FitConfig()
    report = progress or (lambda fraction, message: None)
    if not 0.0 < cfg.false_alarm < 0.5:
        raise InputError(f"--false-alarm must be in (0, 0.5), got {cfg.false_alarm}.")
    preset = dict(_fit_preset(RGB_MODELS.get(cfg.detector)))
    from models.rgb_ae._features import DEFAULT_FIT_PRESET

    preset = {**DEFAULT_FIT_PRESET, **preset}
    size = int(cfg.input_size or preset["input_size"])
    batch_size = int(preset["batch_size"])
    weights, backbone_source, norm = _backbone(backbone_weights)
    start = time.monotonic()

    normal_paths = collect_photos(normals, "normal")
    rng = np.random.default_rng(cfg.seed)
    if cfg.limit and len(normal_paths) > cfg.limit:  # a random subset: photos of one battery come in a row
        normal_paths = [normal_paths[i] for i in sorted(rng.choice(len(normal_paths), cfg.limit, replace=False))]
    views, normal_paths = load_photos(normal_paths, size)
    folds = int(cfg.folds or preset["folds"])
    if len(views) < max(MIN_NORMALS, folds):
        raise InputError(
            f"fit rgb needs at least {max(MIN_NORMALS, folds)} readable normal photos, found {len(views)} in {normals}."
        )
    defect_views, defect_paths = (
        load_photos(collect_photos(defects, "defect"), size) if defects is not None else (None, [])
    )
    report(0.05, f"{len(views)} normal photos read")
    try:
        score_cfg = ScoreConfig(method=cfg.score, topk_fraction=0.01, smooth_sigma=0.0)
    except ValueError as exc:
        raise InputError(f"--score: {exc}") from None

    fold_of = _folds(_groups(normals, normal_paths, folds), folds, rng)
    oof = {"score": np.zeros(len(views)), "peak": np.zeros(len(views)), "mean": np.zeros(len(views))}
    for k in range(folds):
        held = np.flatnonzero(fold_of == k)
        model = _new_detector(cfg, weights)
        model.fit(_batches(views[fold_of != k], norm, batch_size))
        part = _score(model, _batches(views[held], norm, batch_size), score_cfg)
        for key in oof:
            oof[key][held] = part[key]
        report(0.1 + 0.7 * (k + 1) / (folds + 1), f"fold {k + 1}/{folds} scored")
        log.info("fold %d/%d: %d held-out normals scored", k + 1, folds, len(held))

    model = _new_detector(cfg, weights)
    model.fit(_batches(views, norm, batch_size))
    report(0.85, "final detector fitted on all normals")
    defect_scores = (
        _score(model, _batches(defect_views, norm, batch_size), score_cfg)["score"]
        if defect_views is not None and len(defect_views)
        else np.zeros(0)
    )
    normal_scores = oof["score"]
    if len(defect_scores):
        from training.anomaly.threshold import youden_threshold

        chosen = youden_threshold(
            np.r_[np.zeros(len(normal_scores)), np.ones(len(defect_scores))],
            np.r_[normal_scores, defect_scores],
            split="the held-out normals and the defect photos",
        )
        threshold, rule = float(chosen.threshold), {"rule": "youden_j", **chosen.to_dict()}
    else:
        quantile = float(np.quantile(normal_scores, 1.0 - cfg.false_alarm, method="higher"))
        threshold = float(np.nextafter(quantile, np.inf))
        rule = {"rule": "false_alarm_quantile", "target_false_alarm": cfg.false_alarm}
    heldout_fa = float(np.mean(normal_scores >= threshold))
    recall = float(np.mean(defect_scores >= threshold)) if len(defect_scores) else None
    edges = np.histogram_bin_edges(np.r_[normal_scores, defect_scores], bins=30)
    elapsed = time.monotonic() - start
    card = {
        "task": "rgb",
        "architecture": cfg.detector,
        "model_kwargs": cfg.model_kwargs or {},
        "class_names": ["normal", "defect"],
        "input_size": size,
        "normalisation": norm,
        "preprocessing": RGBCrop(size).to_card(),
        "threshold": threshold,
        "score_method": asdict(score_cfg),
        "score_stats": {
            "error_scale": float(np.percentile(oof["peak"], 95)),
            "score_scale": float(np.std(normal_scores)) or None,
        },
        "review": {
            "rgb_ood": {
                "normal_mean_p50": float(np.median(oof["mean"])),
                "normal_mean_p99": float(np.percentile(oof["mean"], 99)),
                "limit": cfg.ood_limit,
            }
        },
        "backbone": {"source": backbone_source, "weights": None if weights is None else str(weights)},
        "metrics": {
            "threshold_rule": rule,
            "heldout_false_alarm": heldout_fa,
            "defect_recall": recall,
            "n_normals": len(views),
            "n_defects": len(defect_scores),
            "folds": folds,
            "fit_seconds": round(elapsed, 1),
            "score_histogram": {
                "edges": edges.tolist(),
                "normal": np.histogram(normal_scores, edges)[0].tolist(),
                "defect": np.histogram(defect_scores, edges)[0].tolist() if len(defect_scores) else [],
            },
        },
        "config": {**asdict(cfg), "fit": "fit rgb (k-fold cross-fitting, then all normals)"},
        "seed": cfg.seed,
        "data_fingerprint": {"normals": _fingerprint(normal_paths), "defects": _fingerprint(defect_paths) if defect_paths else None},
    }
    stem = Path(out_dir) / f"rgb_{cfg.detector}"
    path = save_checkpoint(model, stem, card, fp16=False)  # the PaDiM inverse covariance needs float32
    report(1.0, f"saved {path.name}")
    log.info(
        "fitted %s on %d normals in %.0f s: threshold %.4g, held-out false alarms %.3f%s",
        cfg.detector, len(views), elapsed, threshold, heldout_fa,
        "" if recall is None else f", defect recall {recall:.3f}",
    )  # fmt: skip
    return {**card, "checkpoint": str(path)}


def _fit_preset(factory: Any) -> dict:
    """The ``fit_preset`` of the detector class a registered factory returns (the registry holds factories)."""
    import typing

    preset = getattr(factory, "fit_preset", None)
    if preset is None:
        try:
            cls = typing.get_type_hints(factory).get("return")
        except Exception:  # noqa: BLE001 - unresolvable annotation: the default preset
            cls = None
        preset = getattr(cls, "fit_preset", None)
    return dict(preset or {})


def _groups(source: str | Path, paths: Sequence[Path], folds: int) -> list[str]:
    """Group of each photo for the folds: its battery (dataset) or its sub-folder; else each photo alone.

    Photos of one battery (or one batch folder) look alike; scoring one with a detector fitted
    on its siblings would make the held-out false-alarm rate optimistic.
    """
    root = Path(source)
    groups = [str(p.parent) for p in paths]
    if (root / "manifest.csv").is_file():
        from core.manifest import read_manifest

        frame = read_manifest(root, check_files=False)
        battery = dict(zip((str(root / p) for p in frame["image_path"]), frame["battery_id"].astype(str)))
        groups = [battery.get(str(p), str(p)) for p in paths]
    return groups if len(set(groups)) >= folds else [str(p) for p in paths]


def _folds(groups: Sequence[str], folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold index of each photo: whole groups go to one fold, groups dealt in random order."""
    names = sorted(set(groups))
    order = rng.permutation(len(names))
    fold_of_group = {names[i]: k % folds for k, i in enumerate(order)}
    return np.array([fold_of_group[g] for g in groups], int)


def _backbone(path: str | Path | None) -> tuple[Path | None, str, dict]:
    """The backbone weights to load, how the card describes them, and their input normalisation.

    Without ``--backbone-weights`` the detector runs on a randomly initialised backbone (with
    its residual branches revived, :meth:`models.rgb_ae._features.FeatureDetector.revive_residuals`).
    Weights with a card next to them (``.json``, as this project's backbones have) are fed the
    normalisation the card records; other local weights (ImageNet/DINO) get ImageNet's.
    """
    if path is not None and str(path).lower() == "none":
        log.info("backbone weights disabled (none): the detector runs on a randomly initialised backbone")
        return None, "none: random initialisation (asked for)", IDENTITY
    if path is not None:
        path = Path(path)
        card_path = path.with_suffix(".json")
        if card_path.is_file():
            try:
                card = json.loads(card_path.read_text())
                norm = {key: [float(v) for v in card["normalisation"][key]] for key in ("mean", "std")}
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(f"backbone card {card_path.name} has no readable normalisation: {exc}") from exc
            if card.get("task") == "rgb_backbone":
                return path, f"project backbone trained on synthetic photos ({path.name})", norm
            return path, "local pretrained weights (user supplied, card normalisation)", norm
        return path, "local pretrained weights (user supplied)", IMAGENET
    log.warning(
        "no --backbone-weights given: the detector runs on a randomly initialised backbone; local "
        "ImageNet/DINO weights (timm names, .safetensors) usually do better"
    )
    return None, "none: random initialisation (default; no local weights given)", IDENTITY
