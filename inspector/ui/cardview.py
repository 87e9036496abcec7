"""Read a model card's ``metrics`` without assuming one fixed layout.

Cards of different tasks (and evaluation JSON files) nest their numbers differently, e.g.
``{"accuracy": .9}`` or ``{"test": {"accuracy": .9, "per_class": {...}}}``. These helpers find
the scalar metrics, the per-class table, the confusion matrix and ROC points wherever they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ROC_KEYS: tuple[str, ...] = ("roc_curve", "roc")


def scalar_metrics(metrics: Any, prefix: str = "") -> list[tuple[str, float]]:
    """Every numeric leaf of ``metrics`` as ``(dotted.key, value)``, skipping tables and curves."""
    rows: list[tuple[str, float]] = []
    if not isinstance(metrics, Mapping):
        return rows
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            rows.append((name, float(value)))
        elif isinstance(value, Mapping) and key not in ("per_class", *ROC_KEYS):
            rows += scalar_metrics(value, prefix=f"{name}.")
    return rows


PREFERRED_SPLIT = "test"


def find_key(obj: Any, key: str) -> Any | None:
    """The value stored under ``key`` in nested mappings, or ``None``.

    Looks at the top level, then inside the ``test`` split's metrics, then depth first.
    """
    if isinstance(obj, Mapping):
        if key in obj:
            return obj[key]
        preferred = obj.get(PREFERRED_SPLIT)
        if isinstance(preferred, Mapping) and key in preferred:
            return preferred[key]
        for value in obj.values():
            found = find_key(value, key)
            if found is not None:
                return found
    return None


def confusion_matrix(metrics: Any) -> list[list[float]] | None:
    """The confusion matrix (a square list of lists) in ``metrics``, or ``None``."""
    matrix = find_key(metrics, "confusion_matrix")
    if isinstance(matrix, Mapping):  # e.g. {"labels": [...], "matrix": [[...]]}
        matrix = matrix.get("matrix")
    if not _is_matrix(matrix):
        return None
    return [[float(v) for v in row] for row in matrix]


def per_class_rows(metrics: Any) -> list[dict[str, Any]]:
    """The per-class table as rows ``{"class": name, metric: value, ...}`` (``[]`` if absent)."""
    table = find_key(metrics, "per_class")
    if isinstance(table, Mapping):
        return [
            {"class": str(name), **dict(values)}
            for name, values in table.items()
            if isinstance(values, Mapping)
        ]
    if isinstance(table, Sequence) and not isinstance(table, str):
        return [dict(row) for row in table if isinstance(row, Mapping)]
    return []


def roc_curves(metrics: Any) -> dict[str, tuple[list[float], list[float]]]:
    """ROC points ``{name: (fpr, tpr)}`` from ``roc_curve``/``roc`` entries holding ``fpr``/``tpr``."""
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for key in ROC_KEYS:
        entry = find_key(metrics, key)
        if not isinstance(entry, Mapping):
            continue
        if "fpr" in entry and "tpr" in entry:
            curves["roc"] = (list(entry["fpr"]), list(entry["tpr"]))
        else:
            for name, sub in entry.items():
                if isinstance(sub, Mapping) and "fpr" in sub and "tpr" in sub:
                    curves[str(name)] = (list(sub["fpr"]), list(sub["tpr"]))
    return curves


def _is_matrix(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and len(value) > 0
        and all(isinstance(row, Sequence) and len(row) == len(value) for row in value)
    )
