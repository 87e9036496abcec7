"""Matplotlib figures for classification reports and TensorBoard (headless, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on training machines; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

__all__ = ["confusion_matrix_figure", "roc_figure", "save_figure"]


def _short(name: str) -> str:
    return (
        name.replace("module_", "mod_")
        .replace("_overflow", "")
        .replace("_normal", "_n")
        .replace("_porosity", "_p")
    )


def confusion_matrix_figure(
    matrix: Sequence[Sequence[int]], class_names: Sequence[str], title: str = ""
) -> Figure:
    """Confusion matrix as counts, coloured by the row-normalised rate (recall per true class).

    Args:
        matrix: ``C x C`` counts, rows = truth, columns = prediction.
        class_names: Class names in index order.
        title: Optional figure title.

    Returns:
        A matplotlib figure (close it with ``plt.close(fig)`` when done).
    """
    counts = np.asarray(matrix, dtype=np.int64)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 1.1 * len(class_names) + 2
    fig, ax = plt.subplots(figsize=(size, size * 0.85), dpi=100)
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    labels = [_short(n) for n in class_names]
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            colour = "white" if rates[i, j] > 0.5 else "black"
            ax.text(
                j, i, f"{counts[i, j]}\n{rates[i, j]:.0%}", ha="center", va="center", fontsize=8, color=colour
            )
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def roc_figure(labels: np.ndarray, probs: np.ndarray, class_names: Sequence[str], title: str = "") -> Figure:
    """One-vs-rest ROC curve per class present, plus normal-vs-defect (sum of defect classes).

    Args:
        labels: True class indices ``[N]``.
        probs: Class probabilities ``[N, C]``.
        class_names: Class names in index order.
        title: Optional figure title.

    Returns:
        A matplotlib figure.
    """
    labels = np.asarray(labels)
    probs = np.asarray(probs)
    fig, ax = plt.subplots(figsize=(6, 5.5), dpi=100)
    for c, name in enumerate(class_names):
        positives = labels == c
        if positives.all() or not positives.any():
            continue
        fpr, tpr, _ = roc_curve(positives, probs[:, c])
        ax.plot(fpr, tpr, lw=1.5, label=f"{name} (AUC {roc_auc_score(positives, probs[:, c]):.3f})")
    defect = np.array([not n.endswith("normal") for n in class_names])
    truth = defect[labels]
    if 0 < truth.sum() < truth.size:
        score = probs[:, defect].sum(axis=1)
        fpr, tpr, _ = roc_curve(truth, score)
        ax.plot(fpr, tpr, "k--", lw=2, label=f"defect vs normal (AUC {roc_auc_score(truth, score):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "ROC (one-vs-rest)")
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save ``fig`` as PNG and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
