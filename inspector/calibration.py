"""The verdict confidence as a calibrated probability that the verdict is right.

The raw confidence of :func:`inspector.verdict.combine` mixes a calibrated CT probability with a
logistic of the RGB margin, so it is not a probability. A :class:`VerdictCalibration` maps it
to ``P(verdict correct)`` with an isotonic (monotone, step-wise linear) function fitted on the
labelled CT+RGB pairs of a *selection* set (synthetic seed 4; never the training seed nor the
reporting seed) and evaluated on another seed. It is stored as ``verdict_calibration.json``
next to the checkpoints (:data:`CALIBRATION_FILE`) with the names of the CT and RGB checkpoints
it was fitted for, the policy, the expected calibration error (ECE) before and after on both
sets, and the reliability-diagram bins. ``python -m inspector calibrate`` writes it.

The calibration applies only to what it was fitted on: the same two checkpoints, their own
thresholds and the same policy, with both images given. Any other inspection keeps the raw
confidence (and says so in ``confidence_calibrated: false``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import CheckpointError

log = logging.getLogger(__name__)

__all__ = [
    "CALIBRATION_FILE",
    "VerdictCalibration",
    "expected_calibration_error",
    "fit_isotonic",
    "load_calibration",
    "reliability_bins",
    "save_reliability_diagram",
]

CALIBRATION_FILE = "verdict_calibration.json"
DEFAULT_BINS = 10


@dataclass
class VerdictCalibration:
    """A monotone map from raw verdict confidence to ``P(verdict correct)``.

    Attributes:
        x: Increasing raw-confidence knots in ``[0, 1]``.
        y: Calibrated probability at each knot (non-decreasing, in ``[0, 1]``).
        checkpoints: ``{"ct": name, "rgb": name}``: the checkpoint stems it was fitted for.
        policy: The verdict policy it was fitted with (``"or"`` or ``"and"``).
        method: ``"isotonic"``.
        report: Where and how it was fitted and evaluated (data, sizes, ECE, reliability bins).
    """

    x: list[float]
    y: list[float]
    checkpoints: dict[str, str]
    policy: str = "or"
    method: str = "isotonic"
    report: dict[str, Any] = field(default_factory=dict)

    def __call__(self, raw: float) -> float:
        """The calibrated probability of a raw confidence."""
        return float(np.clip(np.interp(float(raw), self.x, self.y), 0.0, 1.0))

    def applies_to(self, checkpoints: dict[str, str | None], policy: str) -> bool:
        """Whether this calibration was fitted for these checkpoint stems and this policy."""
        return policy == self.policy and all(checkpoints.get(k) == v for k, v in self.checkpoints.items())

    def save(self, path: Path) -> Path:
        """Write the calibration as JSON to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerdictCalibration:
        """Build from the JSON form, checking its shape.

        Raises:
            CheckpointError: Missing keys, knots that are not increasing or values out of range.
        """
        try:
            calibration = cls(
                x=[float(v) for v in data["x"]],
                y=[float(v) for v in data["y"]],
                checkpoints={str(k): str(v) for k, v in data["checkpoints"].items()},
                policy=str(data.get("policy", "or")),
                method=str(data.get("method", "isotonic")),
                report=dict(data.get("report") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"the verdict calibration is malformed ({type(exc).__name__}: {exc})") from None
        x, y = np.asarray(calibration.x), np.asarray(calibration.y)
        if x.size == 0 or x.size != y.size or np.any(np.diff(x) < 0) or np.any((y < 0) | (y > 1)):
            raise CheckpointError("the verdict calibration needs increasing knots and values in [0, 1]")
        return calibration


def load_calibration(folder: Path | str) -> VerdictCalibration | None:
    """The calibration stored in ``folder`` (:data:`CALIBRATION_FILE`), or ``None`` when absent.

    A malformed file is logged and ignored (the raw confidence is used), never fatal.
    """
    path = Path(folder) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        return VerdictCalibration.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, CheckpointError) as exc:
        log.warning("ignoring the verdict calibration %s: %s", path, exc)
        return None


def fit_isotonic(raw: np.ndarray, correct: np.ndarray, max_knots: int = 64) -> tuple[list[float], list[float]]:
    """Fit ``P(correct | raw)`` with isotonic regression.

    Args:
        raw: Raw confidences in ``[0, 1]``.
        correct: 1 where the verdict was right, else 0.
        max_knots: At most this many knots are kept (evenly spread over the fitted steps).

    Returns:
        ``(x, y)`` knots for :class:`VerdictCalibration`.

    Raises:
        ValueError: Fewer than 2 pairs, or inputs of different lengths.
    """
    from sklearn.isotonic import IsotonicRegression

    raw, correct = np.asarray(raw, float), np.asarray(correct, float)
    if raw.size < 2 or raw.shape != correct.shape:
        raise ValueError("calibration needs at least 2 pairs with one outcome each")
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
    model.fit(raw, correct)
    x, y = np.asarray(model.X_thresholds_, float), np.asarray(model.y_thresholds_, float)
    if x.size > max_knots:
        keep = np.unique(np.linspace(0, x.size - 1, max_knots).round().astype(int))
        x, y = x[keep], y[keep]
    return x.tolist(), y.tolist()


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = DEFAULT_BINS) -> list[dict[str, float]]:
    """Equal-width bins of confidence: ``lo, hi, n, confidence`` (mean) and ``accuracy``."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        rows.append({
            "lo": float(edges[b]),
            "hi": float(edges[b + 1]),
            "n": n,
            "confidence": float(confidence[mask].mean()) if n else float("nan"),
            "accuracy": float(correct[mask].mean()) if n else float("nan"),
        })
    return rows


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = DEFAULT_BINS) -> float:
    """ECE: the bin-size weighted mean of ``|accuracy - confidence|`` over equal-width bins."""
    rows = reliability_bins(confidence, correct, bins)
    total = sum(r["n"] for r in rows)
    if not total:
        return float("nan")
    return float(sum(r["n"] * abs(r["accuracy"] - r["confidence"]) for r in rows if r["n"]) / total)


def save_reliability_diagram(section: dict[str, Any], path: Path) -> Path:
    """Write a reliability diagram (raw and calibrated) of a report section as PNG.

    Args:
        section: A ``report["eval"]``-like dict with ``reliability_raw``, ``reliability_calibrated``,
            ``ece_raw``, ``ece_calibrated``, ``data``, ``split`` and ``n``.
        path: Where to write the PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.2), dpi=120)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect")
    for key, colour, name in (("reliability_raw", "tab:orange", "raw"), ("reliability_calibrated", "tab:blue", "calibrated")):
        rows = [r for r in section.get(key, []) if r["n"]]
        ece = section.get(key.replace("reliability", "ece"), float("nan"))
        ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], "o-", color=colour,
                label=f"{name} (ECE {ece:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("verdict confidence")
    ax.set_ylabel("fraction of verdicts correct")
    ax.set_title(f"{Path(str(section.get('data', ''))).name} {section.get('split', '')}, n={section.get('n', 0)}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
