"""Settings of one :class:`inspector.pipeline.Inspector`: checkpoints, thresholds, policy, backends."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from inspector.verdict import POLICIES

#: Runtimes a setting may name (:mod:`inspector.runtime` registers one runner per name).
RUNTIME_NAMES: tuple[str, ...] = ("torch", "onnx", "onnx_int8")

#: ``blind`` (images + metadata only) or ``evidence`` (also the inspector's maps, scores, verdict).
VLM_MODES: tuple[str, ...] = ("blind", "evidence")

__all__ = [
    "CHECKPOINTS_ENV",
    "INT8_CALIBRATION_ENV",
    "default_int8_calibration",
    "DEFAULT_CHECKPOINTS_DIR",
    "default_checkpoints_dir",
    "InspectorSettings",
    "RUNTIME_ENV",
    "RUNTIME_NAMES",
    "default_runtime",
    "Thresholds",
]

#: ``checkpoints/`` of this source tree (where the shipped weights live).
DEFAULT_CHECKPOINTS_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
#: Environment variable that points default-checkpoint lookup elsewhere.
CHECKPOINTS_ENV = "INSPECTOR_CHECKPOINTS_DIR"
#: Environment variable naming the folder of CT slices the ``onnx_int8`` runtime calibrates on.
INT8_CALIBRATION_ENV = "INSPECTOR_INT8_CALIBRATION"


def default_int8_calibration() -> Path:
    """``$INSPECTOR_INT8_CALIBRATION`` if set, else the shipped CT samples (``assets/ct``)."""
    return Path(os.environ.get(INT8_CALIBRATION_ENV) or DEFAULT_CHECKPOINTS_DIR.parent / "assets" / "ct")


#: Environment variable choosing the default runtime (``torch`` or ``onnx``; the app reads it too).
RUNTIME_ENV = "INSPECTOR_RUNTIME"


def default_runtime() -> str:
    """``$INSPECTOR_RUNTIME`` if set, else ``torch``."""
    return os.environ.get(RUNTIME_ENV) or "torch"


def default_checkpoints_dir() -> Path:
    """``$INSPECTOR_CHECKPOINTS_DIR`` if set, else the source tree's ``checkpoints/``."""
    return Path(os.environ.get(CHECKPOINTS_ENV) or DEFAULT_CHECKPOINTS_DIR)


@dataclass
class InspectorSettings:
    """Everything configurable about an inspection.

    Attributes:
        ct_checkpoint: CT (or GAIN) checkpoint; ``None`` uses the ``"default": true`` CT card in
            ``checkpoints_dir``.
        rgb_checkpoint: RGB autoencoder checkpoint; ``None`` uses the default RGB card.
        checkpoints_dir: Where default checkpoints are looked up (default:
            ``$INSPECTOR_CHECKPOINTS_DIR``, else ``checkpoints/`` of the source tree).
        ct_threshold: Override of the CT defect-probability threshold (card's, else 0.5).
        rgb_threshold: Override of the RGB anomaly-score threshold (card's Youden threshold).
        policy: ``"or"`` (a defect on either side counts) or ``"and"`` (both must agree).
        explainer: CT explanation method (``gradcam``, ``gradcam_pp``, ``layercam``, ...);
            ``None`` uses the card's, else Grad-CAM.
        attention_box_threshold: Attention level that delimits a CT defect box.
        error_box_threshold: Error-map level that delimits an RGB defect box.
        vlm: VLM backend name (``None`` or ``"none"`` disables it).
        vlg: VLG backend name (``None`` or ``"none"`` disables it).
        vlm_mode: ``"evidence"`` (the VLM also reads the inspector's maps, scores and verdict) or
            ``"blind"`` (images and battery metadata only: an independent judge).
        vlm_timeout_s: Seconds the VLM may take before its panel reports a timeout.
        vlg_timeout_s: Seconds the VLG may take before its panel reports a timeout.
        backend_options: Per-backend constructor options, ``{name: {option: value}}``.
        device: Torch device for the models.
        runtime: Where the models' inference graphs run: ``torch`` (default) or ``onnx``
            (ONNX Runtime; CAM explanations keep a small torch head), see :mod:`inspector.runtime`;
            default ``$INSPECTOR_RUNTIME``, else ``torch`` (how the app chooses it). ``onnx_int8``
            runs the CT graph quantised to int8 (faster, logits within a few hundredths).
        int8_calibration: Folder of CT slices ``onnx_int8`` measures activation ranges on
            (default ``$INSPECTOR_INT8_CALIBRATION``, else the shipped ``assets/ct``).
    """

    ct_checkpoint: str | Path | None = None
    rgb_checkpoint: str | Path | None = None
    checkpoints_dir: str | Path = field(default_factory=default_checkpoints_dir)
    ct_threshold: float | None = None
    rgb_threshold: float | None = None
    policy: str = "or"
    explainer: str | None = None
    attention_box_threshold: float = 0.5
    error_box_threshold: float = 0.5
    vlm: str | None = "findings_writer"
    vlg: str | None = "model_boxes"
    vlm_mode: str = "evidence"
    vlm_timeout_s: float = 60.0
    vlg_timeout_s: float = 60.0
    backend_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    device: str = "cpu"
    runtime: str = field(default_factory=default_runtime)
    int8_calibration: str | Path = field(default_factory=default_int8_calibration)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ConfigError(f"policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")
        for name in ("vlm_timeout_s", "vlg_timeout_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
        for name in ("ct_threshold", "attention_box_threshold", "error_box_threshold"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ConfigError(f"{name} must be a finite number, got {value!r}")
        if self.rgb_threshold is not None and not math.isfinite(float(self.rgb_threshold)):
            raise ConfigError(f"rgb_threshold must be a finite number, got {self.rgb_threshold!r}")
        if self.vlm_mode not in VLM_MODES:
            raise ConfigError(f"vlm_mode must be one of {', '.join(VLM_MODES)}, not {self.vlm_mode!r}")
        if self.runtime not in RUNTIME_NAMES:
            raise ConfigError(f"runtime must be one of {', '.join(RUNTIME_NAMES)}, not {self.runtime!r}")
        self.checkpoints_dir = Path(self.checkpoints_dir)
        self.vlm = None if self.vlm in (None, "", "none") else self.vlm
        self.vlg = None if self.vlg in (None, "", "none") else self.vlg

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> InspectorSettings:
        """Build settings from a mapping (e.g. a YAML section); unknown keys are an error.

        Raises:
            ConfigError: Unknown keys or invalid values.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown inspector setting(s): {', '.join(unknown)}")
        return cls(**dict(values))

    def replace(self, **changes: Any) -> InspectorSettings:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Thresholds:
    """Per-request decision settings: they travel with one inspection, never with the models.

    Loaded models are shared by every session, so a user's thresholds must not be part of what
    is loaded (or cached); they are passed with each call instead.

    Attributes:
        ct: CT defect-probability threshold, strictly between 0 and 1; ``None`` uses the
            predictor's (card's) threshold.
        rgb: RGB anomaly-score threshold (finite); ``None`` uses the card's.
        policy: ``"or"`` or ``"and"``; ``None`` uses the inspector's settings.

    Raises:
        ConfigError: A value out of range.
    """

    ct: float | None = None
    rgb: float | None = None
    policy: str | None = None

    def __post_init__(self) -> None:
        if self.ct is not None:
            value = float(self.ct)
            if not (math.isfinite(value) and 0.0 < value < 1.0):
                raise ConfigError(f"the CT threshold must lie strictly between 0 and 1, got {self.ct!r}")
            object.__setattr__(self, "ct", value)
        if self.rgb is not None:
            value = float(self.rgb)
            if not math.isfinite(value):
                raise ConfigError(f"the RGB threshold must be a finite number, got {self.rgb!r}")
            object.__setattr__(self, "rgb", value)
        if self.policy is not None and self.policy not in POLICIES:
            raise ConfigError(f"policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")

    def to_dict(self) -> dict[str, Any]:
        """``{"ct": ..., "rgb": ..., "policy": ...}`` (for logs and the audit trail)."""
        return dataclasses.asdict(self)
