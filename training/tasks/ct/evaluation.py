"""CT task inference and evaluation: load a checkpoint, predict a split, score it, report."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset

from core.calibration import SoftmaxCalibration
from core.checkpoint import load_checkpoint
from core.errors import CheckpointError
from inspector.review import (
    FeatureDensity,
    ReviewPolicy,
    capture_features,
    image_quality_reasons,
    model_review_reasons,
    split_review_state,
)
from training.config import ModelConfig
from training.metrics.bootstrap import battery_bootstrap, recall_on
from training.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax_with_temperature,
)
from training.metrics.classification import classification_metrics
from training.tasks.common import load_task_model, normalise
from training.tasks.ct.config import CLASS_NAMES, CTDataConfig
from training.tasks.ct.data import _labels_of, _require_all_classes, data_dirs, make_dataset, make_loader
from training.tasks.ct.task import build_model

log = logging.getLogger(__name__)

__all__ = [
    "data_config_from_card",
    "evaluate",
    "load_ct_model",
    "load_review_density",
    "predict",
    "predict_with_features",
    "records_of",
]


def load_ct_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Build the CT model a checkpoint card describes and load its weights (float32, eval mode).

    Raises:
        CheckpointError: Missing files, a non-CT checkpoint, or weights of another architecture.
    """

    def build(card: dict[str, Any]) -> nn.Module:
        if not card.get("architecture"):
            raise CheckpointError(f"checkpoint {path} has no architecture in its card")
        return build_model(
            ModelConfig(architecture=card["architecture"], kwargs=dict(card.get("model_kwargs") or {})),
            num_classes=len(card.get("class_names") or CLASS_NAMES),
        )

    return load_task_model(path, "ct", build, device)


def load_review_density(path: str | Path, card: Mapping[str, Any]) -> FeatureDensity | None:
    """The feature density stored with a CT checkpoint (``None`` for checkpoints without one)."""
    state_dict, _ = load_checkpoint(path)
    _, review_state = split_review_state(state_dict)
    threshold = (card.get("review") or {}).get("ood_threshold", float("inf"))
    return FeatureDensity.from_state(review_state, threshold)


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, card: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels of every batch in ``loader``, normalised as the card says.

    Returns:
        ``(logits [N, C] float64, labels [N] int64)``.
    """
    logits, labels, _ = predict_with_features(model, loader, card)
    return logits, labels


@torch.no_grad()
def predict_with_features(
    model: nn.Module, loader: DataLoader, card: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logits, labels and classifier features (input of the last linear layer) of ``loader``.

    Returns:
        ``(logits [N, C] float64, labels [N] int64, features [N, D] float32)``.
    """
    device = next(model.parameters()).device
    norm = card.get("normalisation") or {}
    mean = float(np.asarray(norm.get("mean", 0.0)).reshape(-1)[0])
    std = float(np.asarray(norm.get("std", 1.0)).reshape(-1)[0])
    uses_meta = bool(getattr(model, "uses_meta", card.get("uses_meta", True)))
    all_logits, all_labels, all_features = [], [], []
    for batch in loader:
        image = normalise(batch["image"].to(device), mean, std)
        meta = batch["meta"].to(device) if uses_meta and batch.get("meta") is not None else None
        with capture_features(model) as seen:
            all_logits.append(model(image, meta).float().cpu())
        if seen.features is not None:
            all_features.append(seen.features.cpu())
        all_labels.append(batch["label"])
    features = torch.cat(all_features).numpy() if all_features else np.zeros((0, 0), np.float32)
    return torch.cat(all_logits).double().numpy(), torch.cat(all_labels).numpy(), features


def data_config_from_card(card: Mapping[str, Any], batch_size: int = 64) -> CTDataConfig:
    """The evaluation-time data settings a CT card implies (size, crop, intensity window, normalisation)."""
    data = dict((card.get("config") or {}).get("data") or {})
    norm = card.get("normalisation") or {}
    return CTDataConfig(
        input_size=int(card.get("input_size") or data.get("input_size") or 160),
        batch_size=batch_size,
        crop=bool((card.get("preprocessing") or {}).get("crop")),
        intensity=(card.get("preprocessing") or {}).get("intensity") or "none",
        mean=float(np.asarray(norm.get("mean", 0.5)).reshape(-1)[0]),
        std=float(np.asarray(norm.get("std", 0.25)).reshape(-1)[0]),
        sampler="none",
        augment="none",
    )


def evaluate(
    checkpoint: str | Path,
    data_dir: str | Path | Sequence[str | Path],
    split: str = "test",
    report_dir: str | Path | None = None,
    limit: int | None = None,
    calibration_split: str | None = "val",
    bootstrap: int = 1000,
    detail_pass: bool | None = None,
    localisation: bool = False,
) -> dict[str, Any]:
    """Evaluate a CT checkpoint on one split of one or several datasets.

    Args:
        checkpoint: ``NAME.safetensors`` (with ``NAME.json``).
        data_dir: Dataset folder, or several (evaluated together, e.g. every held-out engine).
        split: Manifest split, or ``"all"`` for every row.
        report_dir: If given, write ``report.md``, ``confusion_matrix.png`` and ``roc.png`` there.
        limit: Evaluate at most this many images (evenly spaced over the split).
        calibration_split: Split used to fit a temperature when the card has none fitted
            (``None`` = use the card's temperature as is).
        bootstrap: Battery-level bootstrap resamples for the confidence intervals (0 = none).
        detail_pass: Score slices whose battery view is larger than the model input as the
            inspector does with the card's detail pass (:mod:`inspector.predictors.ct_detail`):
            ``None`` follows the card, ``True`` forces it on (default settings when the card
            has none), ``False`` off.
        localisation: Also score where the inspector's attention map points on the defect
            slices with a mask (:func:`attention_localisation`: CAM-IoU, PointGame, energy inside).

    Returns:
        Contract metrics: ``accuracy, macro_f1, roc_auc, per_class, confusion_matrix, binary``
        plus ``ece`` (calibrated; also ``ece_before``/``ece_after``), ``review_rate``,
        ``accuracy_unflagged``, ``review_reasons`` (count per reason), ``recall_by_void_size``,
        ``ci`` (95 % intervals resampled by battery), ``temperature, n_images, split, checkpoint``.

    Raises:
        CheckpointError: Bad or mismatching checkpoint.
        InputError: Unreadable data, or a split missing a CT class.
    """
    dirs = data_dirs(data_dir)
    model, card = load_ct_model(checkpoint)
    density = load_review_density(checkpoint, card)
    class_names = list(card.get("class_names") or CLASS_NAMES)
    cfg = data_config_from_card(card)
    cfg.limit = limit
    dataset = make_dataset(dirs, split, cfg, train=False)
    _require_all_classes(_labels_of(dataset), split, dirs[0] if len(dirs) == 1 else Path("+".join(map(str, dirs))))
    logits, labels, features = predict_with_features(model, make_loader(dataset, cfg, 0, train=False), card)

    calibration = SoftmaxCalibration.from_card(card, len(class_names))
    if (card.get("metrics") or {}).get("calibration") is None and calibration_split and calibration_split != split:
        val_set = make_dataset(dirs, calibration_split, cfg, train=False)
        val_logits, val_labels = predict(model, make_loader(val_set, cfg, 0, train=False), card)
        calibration = SoftmaxCalibration(fit_temperature(val_logits, val_labels))
        log.info("card has no fitted calibration; fitted T %.3f on %s", calibration.temperature, calibration_split)
    probs_raw = softmax_with_temperature(logits)
    probs = calibration.probabilities(logits)
    records = records_of(dataset)
    detail_changed = 0
    if detail_pass is not False:
        probs, detail_changed = _apply_detail_pass(checkpoint, card, records, probs, class_names, detail_pass)
    metrics = classification_metrics(labels, probs, class_names)
    review = review_slices(model, card, density, probs, features, records, class_names)
    metrics.update(
        ece_before=expected_calibration_error(probs_raw, labels),
        ece_after=expected_calibration_error(probs, labels),
        temperature=calibration.temperature,
        class_bias=None if calibration.bias is None else list(calibration.bias),
        split=split,
        checkpoint=str(checkpoint),
        architecture=card.get("architecture"),
        data=[str(d) for d in dirs],
        detail_pass_changed=detail_changed,
    )
    metrics["ece"] = metrics["ece_after"]
    metrics.update(review_metrics(labels, probs, class_names, review))
    metrics["recall_by_void_size"] = recall_by_void_size(records, probs, class_names)
    if bootstrap:
        metrics["ci"] = battery_intervals(records["battery_key"].to_numpy(), labels, probs, class_names, bootstrap)
    if localisation:
        metrics["localisation"] = attention_localisation(checkpoint, card, records)
    if report_dir is not None:
        from training.reports import write_classification_report

        context = {
            "Checkpoint": f"`{Path(checkpoint).name}` ({card.get('architecture')})",
            "Data": ", ".join(f"`{d}`" for d in dirs) + f" split `{split}`",
        }
        write_classification_report(
            metrics, class_names, report_dir, labels, probs, title="CT classification report", context=context
        )
    return metrics


def _apply_detail_pass(
    checkpoint: str | Path,
    card: Mapping[str, Any],
    records: pd.DataFrame,
    probs: np.ndarray,
    class_names: Sequence[str],
    force: bool | None,
) -> tuple[np.ndarray, int]:
    """Probabilities of slices the inspector's detail pass would look at, as the inspector gives them.

    Returns:
        ``(probabilities, number of slices whose probabilities the detail pass changed)``.
    """
    from core.checkpoint import load_checkpoint
    from core.imageio import load_image
    from inspector.predictors import create_predictor
    from inspector.predictors.ct_detail import DetailPass

    card = dict(card)
    if force and DetailPass.from_card(card) is None:
        card["preprocessing"] = {**(card.get("preprocessing") or {}), "detail_pass": True}
    if DetailPass.from_card(card) is None:
        return probs, 0
    state_dict, _ = load_checkpoint(checkpoint, task="ct")
    predictor = create_predictor(state_dict, card)
    out, changed = probs.copy(), 0
    for i, row in records.iterrows():
        image = load_image(Path(row["root"]) / row["image_path"], "ct")
        view, _ = predictor._crop(image)
        if not predictor.detail.needed(view.shape, max(predictor.input_hw)):
            continue
        got = predictor.predict(image).probabilities
        new = np.array([got[n] for n in class_names])
        if not np.allclose(new, out[i], atol=1e-4):
            changed += 1
        out[i] = new
    return out, changed


def attention_localisation(
    checkpoint: str | Path, card: Mapping[str, Any], records: pd.DataFrame
) -> dict[str, Any]:
    """Where the inspector's attention points on the defect slices that have a mask.

    Every such slice goes through :meth:`inspector.predictors.ct.CTPredictor.predict` (crop,
    model, the card's explainer, uncropping), and its attention map, at the slice's own size, is
    scored against the generator's mask; the explanation is of the predicted class, as the app
    shows it.

    Returns:
        ``{"n", "cam_iou", "point_game", "energy_inside"}`` (means over the slices; ``None`` when
        there is none) and the same per engine under ``by_engine`` when the manifest says.
    """
    from core.imageio import load_image
    from inspector.predictors import create_predictor
    from training.metrics.localisation import cam_iou, energy_inside, point_game

    state_dict, _ = load_checkpoint(checkpoint, task="ct")
    predictor = create_predictor(state_dict, card)
    rows: list[tuple[str, float, float, float]] = []
    for _, row in records.iterrows():
        if not isinstance(row.get("mask_path"), str) or not row["mask_path"]:
            continue
        root = Path(row["root"])
        image = load_image(root / row["image_path"], "ct")
        mask = cv2.imread(str(root / row["mask_path"]), cv2.IMREAD_GRAYSCALE)
        if mask is None or not (mask > 127).any():
            continue
        meta = {k: row[k] for k in ("battery_type", "axis") if isinstance(row.get(k), str) and row[k]}
        attention = torch.from_numpy(np.ascontiguousarray(predictor.predict(image, **meta).attention, np.float32))
        target = torch.from_numpy((mask > 127).astype(np.float32))
        engine = str(row.get("engine") or "unknown")
        rows.append(
            (engine, float(cam_iou(attention, target)[0]), float(point_game(attention, target)[0]),
             float(energy_inside(attention, target)[0]))
        )

    def summary(part: list[tuple[str, float, float, float]]) -> dict[str, Any]:
        values = np.array([r[1:] for r in part], dtype=np.float64).reshape(-1, 3)
        means = values.mean(0) if len(values) else [None] * 3
        return {"n": len(values), **{k: (None if m is None else float(m)) for k, m in zip(("cam_iou", "point_game", "energy_inside"), means)}}

    engines = sorted({r[0] for r in rows})
    return {**summary(rows), "by_engine": {e: summary([r for r in rows if r[0] == e]) for e in engines}}


def records_of(dataset: Dataset) -> pd.DataFrame:
    """Manifest rows of every sample, in dataset order, with ``root`` and ``battery_key`` columns."""
    if isinstance(dataset, Subset):
        return records_of(dataset.dataset).iloc[list(dataset.indices)].reset_index(drop=True)
    if isinstance(dataset, ConcatDataset):
        return pd.concat([records_of(d) for d in dataset.datasets], ignore_index=True)
    rows = dataset.records.copy()
    rows["root"] = str(dataset.root)
    rows["battery_key"] = str(dataset.root) + "::" + rows["battery_id"].astype(str)
    return rows.reset_index(drop=True)


def review_slices(
    model: nn.Module,
    card: Mapping[str, Any],
    density: FeatureDensity | None,
    probs: np.ndarray,
    features: np.ndarray,
    records: pd.DataFrame,
    class_names: Sequence[str],
) -> list[list[str]]:
    """The review reasons of every slice, with the rules the inspector applies.

    Image checks read the original files (as the inspector decodes them); the model checks use
    the same :func:`inspector.review.model_review_reasons` as :class:`~inspector.predictors.ct.CTPredictor`.
    """
    from core.imageio import image_info, load_image

    policy = ReviewPolicy.from_card(card.get("review"))
    threshold = float(card.get("threshold") or 0.5)
    defect = np.array([not n.endswith("normal") for n in class_names])
    scores = density.score(features) if density is not None and features.size else None
    uses_meta = bool(getattr(model, "uses_meta", True))
    out = []
    for i, row in records.iterrows():
        image = load_image(Path(row["root"]) / row["image_path"], "ct")
        reasons = image_quality_reasons(image, policy, image_info(image), prefix="ct")
        reasons += model_review_reasons(
            dict(zip(class_names, probs[i].tolist())),
            float(probs[i, defect].sum()),
            threshold,
            None if scores is None else float(scores[i]),
            density.threshold if density is not None else float("inf"),
            policy,
            uses_meta,
            row["battery_type"],
        )
        out.append(reasons)
    return out


def review_metrics(
    labels: np.ndarray, probs: np.ndarray, class_names: Sequence[str], reasons: list[list[str]]
) -> dict[str, Any]:
    """``review_rate``, ``accuracy_unflagged``, ``macro_f1_unflagged`` and counts per reason."""
    flagged = np.array([bool(r) for r in reasons])
    pred = probs.argmax(axis=1)
    kept = ~flagged
    counts: dict[str, int] = {}
    for r in reasons:
        for code in r:
            counts[code] = counts.get(code, 0) + 1
    return {
        "review_rate": float(flagged.mean()) if flagged.size else 0.0,
        "accuracy_unflagged": float((pred[kept] == labels[kept]).mean()) if kept.any() else None,
        "n_unflagged": int(kept.sum()),
        "review_reasons": dict(sorted(counts.items())),
    }


VOID_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("area<10", 0, 10),
    ("area10-50", 10, 50),
    ("area>50", 50, float("inf")),
    ("diameter3-6", np.pi * 1.5**2, np.pi * 3.0**2),  # 3-6 px diameter discs: 7-28 px area
)


def largest_defect_area(path: Path) -> int:
    """Pixel area of the largest connected defect region of a mask file (original resolution)."""
    import cv2

    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        return 0
    n, _, stats, _ = cv2.connectedComponentsWithStats((mask > 127).astype(np.uint8), connectivity=8)
    return int(stats[1:, cv2.CC_STAT_AREA].max()) if n > 1 else 0


def recall_by_void_size(records: pd.DataFrame, probs: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """Defect recall of porosity slices by the area of their largest void (original pixels).

    A slice counts as found when its summed defect probability reaches 0.5 (normal/defect is the
    decision that matters for a void; which porosity class is the 5-class metric's business).
    """
    defect = np.array([not n.endswith("normal") for n in class_names])
    porous = records["label"].str.endswith("_porosity").to_numpy() & (records["mask_path"] != "").to_numpy()
    out: dict[str, Any] = {}
    if not porous.any():
        return out
    areas = np.array(
        [largest_defect_area(Path(r["root"]) / r["mask_path"]) if p else 0 for (_, r), p in zip(records.iterrows(), porous)]
    )
    found = probs[:, defect].sum(axis=1) >= 0.5
    for name, lo, hi in VOID_BUCKETS:
        sel = porous & (areas >= lo) & (areas < hi)
        out[name] = {"n": int(sel.sum()), "recall": float(found[sel].mean()) if sel.any() else None}
    return out


def battery_intervals(
    groups: np.ndarray, labels: np.ndarray, probs: np.ndarray, class_names: Sequence[str], n_resamples: int
) -> dict[str, Any]:
    """95 % battery-bootstrap intervals of macro-F1, accuracy, defect and normal recall."""
    from sklearn.metrics import f1_score

    defect = np.array([not n.endswith("normal") for n in class_names])
    pred = probs.argmax(axis=1)
    truth_defect = defect[labels]
    pred_defect = probs[:, defect].sum(axis=1) >= 0.5

    def macro_f1(idx: np.ndarray) -> float:
        present = np.unique(labels[idx])
        return float(f1_score(labels[idx], pred[idx], labels=present, average="macro", zero_division=0))

    return {
        "macro_f1": battery_bootstrap(groups, macro_f1, n_resamples),
        "accuracy": battery_bootstrap(groups, lambda idx: float((pred[idx] == labels[idx]).mean()), n_resamples),
        "defect_recall": battery_bootstrap(groups, recall_on(truth_defect, pred_defect, True), n_resamples),
        "normal_recall": battery_bootstrap(groups, recall_on(truth_defect, pred_defect, False), n_resamples),
    }
