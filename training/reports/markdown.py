"""Markdown report of a classification evaluation, laid out like seed 003 §3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["classification_report_markdown", "write_classification_report"]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _per_class_table(metrics: Mapping[str, Any]) -> list[str]:
    lines = ["| Class | Precision | Recall | F1 Score | Support |", "|---|---|---|---|---|"]
    for name, row in metrics["per_class"].items():
        lines.append(
            f"| {name} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | {_fmt(row['f1'])} | {row['support']:,} |"
        )
    lines.append(
        f"| **Macro Avg** | **{_fmt(metrics.get('macro_precision'))}** | **{_fmt(metrics.get('macro_recall'))}** "
        f"| **{_fmt(metrics['macro_f1'])}** | {metrics.get('n_images', 0):,} |"
    )
    return lines


def _confusion_block(matrix: Sequence[Sequence[int]], class_names: Sequence[str]) -> list[str]:
    short = [n.replace("module_", "mod_").replace("_overflow", "")[:13] for n in class_names]
    width = max(6, *(len(s) for s in short)) + 1
    lines = ["```", " " * 22 + "Predicted", " " * 22 + "".join(s.rjust(width) for s in short), "Actual"]
    for name, row in zip(class_names, matrix):
        lines.append(f"{name[:21]:<22}" + "".join(str(v).rjust(width) for v in row))
    lines.append("```")
    return lines


def classification_report_markdown(
    metrics: Mapping[str, Any],
    class_names: Sequence[str],
    title: str = "CT classification report",
    context: Mapping[str, Any] | None = None,
    figures: Mapping[str, str] | None = None,
) -> str:
    """Render evaluation metrics as Markdown.

    Args:
        metrics: Output of :func:`training.metrics.classification.classification_metrics`,
            optionally with ``ece_before``, ``ece_after`` and ``temperature``.
        class_names: Class names in index order.
        title: Top heading.
        context: Extra key/value rows for the header table (checkpoint, data, split, ...).
        figures: ``{"caption": "relative/path.png"}`` images to embed.

    Returns:
        The Markdown text.
    """
    lines = [f"# {title}", ""]
    head = dict(context or {})
    head.update(
        {
            "Images": f"{metrics.get('n_images', 0):,}",
            "Accuracy": _fmt(metrics["accuracy"], 4),
            "Macro F1": _fmt(metrics["macro_f1"], 4),
            "ROC-AUC (macro, one-vs-rest)": _fmt(metrics.get("roc_auc"), 4),
        }
    )
    lines += ["| Item | Value |", "|---|---|", *(f"| {k} | {v} |" for k, v in head.items()), ""]
    lines += ["## Per-class metrics", "", *_per_class_table(metrics), ""]
    lines += ["## Confusion matrix", "", *_confusion_block(metrics["confusion_matrix"], class_names), ""]
    binary = metrics.get("binary")
    if binary:
        lines += [
            "## Binary: normal vs defect",
            "",
            "| Defect recall | Defect precision | Normal recall | Accuracy | F1 | ROC-AUC |",
            "|---|---|---|---|---|---|",
            f"| {_fmt(binary['defect_recall'])} | {_fmt(binary['defect_precision'])} | "
            f"{_fmt(binary['normal_recall'])} | {_fmt(binary['accuracy'])} | {_fmt(binary['f1'])} | "
            f"{_fmt(binary.get('roc_auc'))} |",
            "",
        ]
    if "ece_before" in metrics:
        lines += [
            "## Calibration",
            "",
            "Temperature scaling fitted on the validation split of the training data.",
            "",
            "| Temperature | ECE before | ECE after |",
            "|---|---|---|",
            f"| {_fmt(metrics.get('temperature'))} | {_fmt(metrics['ece_before'], 4)} | "
            f"{_fmt(metrics.get('ece_after'), 4)} |",
            "",
        ]
    for caption, rel in (figures or {}).items():
        lines += [f"![{caption}]({rel})", ""]
    return "\n".join(lines)


def write_classification_report(
    metrics: Mapping[str, Any],
    class_names: Sequence[str],
    out_dir: str | Path,
    labels: Any = None,
    probs: Any = None,
    title: str = "CT classification report",
    context: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``report.md``, ``confusion_matrix.png`` and (given scores) ``roc.png`` into ``out_dir``.

    Args:
        metrics: Evaluation metrics (see :func:`classification_report_markdown`).
        class_names: Class names in index order.
        out_dir: Folder for the report; created if missing.
        labels: True labels ``[N]`` for the ROC figure (optional).
        probs: Probabilities ``[N, C]`` for the ROC figure (optional).
        title: Report heading.
        context: Extra header rows.

    Returns:
        Path of ``report.md``.
    """
    from training.reports.figures import confusion_matrix_figure, roc_figure, save_figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {}
    save_figure(
        confusion_matrix_figure(metrics["confusion_matrix"], class_names, title),
        out_dir / "confusion_matrix.png",
    )
    figures["Confusion matrix"] = "confusion_matrix.png"
    if labels is not None and probs is not None:
        save_figure(roc_figure(labels, probs, class_names), out_dir / "roc.png")
        figures["ROC curves"] = "roc.png"
    path = out_dir / "report.md"
    path.write_text(
        classification_report_markdown(metrics, class_names, title, context, figures), encoding="utf-8"
    )
    return path
