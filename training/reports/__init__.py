"""Evaluation reports: Markdown tables (seed 003 §3) and figures (confusion matrix, ROC)."""

from training.reports.figures import confusion_matrix_figure, roc_figure, save_figure
from training.reports.markdown import classification_report_markdown, write_classification_report

__all__ = [
    "classification_report_markdown",
    "confusion_matrix_figure",
    "roc_figure",
    "save_figure",
    "write_classification_report",
]
