"""RGB task report: score histogram, ROC figure and ``report.md`` of an evaluation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_report"]


def write_report(out_dir: str | Path, scored: Mapping[str, np.ndarray], metrics: Mapping[str, Any]) -> Path:
    """Write ``score_histogram.png`` (normal vs defect, threshold marked), ``roc.png`` and ``report.md``.

    Args:
        out_dir: Report folder; created if missing.
        scored: Output of :func:`score_dataset`.
        metrics: Output of :func:`evaluate_checkpoint` (before the report is written).

    Returns:
        Path of ``report.md``.
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    from training.reports.figures import save_figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores, labels, names = scored["score"], scored["is_defect"], scored["label"]
    threshold = float(metrics["threshold"])

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    bins = np.histogram_bin_edges(scores, bins=40)
    ax.hist(scores[labels == 0], bins=bins, alpha=0.6, label=f"normal (n={int((labels == 0).sum())})")
    for name in sorted(set(names[labels == 1].tolist())):
        chosen = names == name
        ax.hist(
            scores[chosen],
            bins=bins,
            alpha=0.5,
            histtype="stepfilled",
            label=f"{name} (n={int(chosen.sum())})",
        )
    ax.axvline(threshold, color="k", ls="--", lw=1.5, label=f"threshold {threshold:.4g}")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("images")
    ax.set_title("RGB anomaly scores: normal vs defect")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out_dir / "score_histogram.png")

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    if metrics.get("roc_auc") is not None:
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, lw=2, label=f"AUC {metrics['roc_auc']:.4f}")
        op_fpr, op_tpr = 1.0 - (metrics["normal_recall"] or 0.0), metrics["defect_recall"] or 0.0
        ax.plot([op_fpr], [op_tpr], "ko", label="val-chosen threshold")
        ax.legend(loc="lower right")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC: defect vs normal")
    fig.tight_layout()
    save_figure(fig, out_dir / "roc.png")

    def fmt(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

    rows = [
        ("Checkpoint", metrics.get("checkpoint")),
        ("Split", metrics.get("split")),
        (
            "Images (normal / defect)",
            f"{metrics['n_images']} ({metrics['n_normal']} / {metrics['n_defect']})",
        ),
        ("Score method", json.dumps(metrics.get("score_method"))),
        ("Threshold (chosen on validation)", fmt(threshold)),
        ("ROC-AUC", fmt(metrics.get("roc_auc"))),
        ("Accuracy", fmt(metrics["accuracy"])),
        ("F1", fmt(metrics["f1"])),
        ("Defect recall", fmt(metrics["defect_recall"])),
        ("Normal recall", fmt(metrics["normal_recall"])),
    ]
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]
    lines = [
        "# RGB anomaly detection report",
        "",
        "| Item | Value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        "## Recall per RGB label",
        "",
        "| Label | Recall | Images |",
        "|---|---|---|",
        *(
            f"| {name} | {fmt(rate)} | {int((names == name).sum())} |"
            for name, rate in metrics["per_type_recall"].items()
        ),
        "",
        "For `normal` the recall is the share called normal; for defect labels, the share called defective.",
        "",
        "## Confusion matrix",
        "",
        "| | predicted normal | predicted defect |",
        "|---|---|---|",
        f"| **normal** | {tn} | {fp} |",
        f"| **defect** | {fn} | {tp} |",
        "",
        "![Score histogram](score_histogram.png)",
        "",
        "![ROC](roc.png)",
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
