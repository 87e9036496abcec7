"""The predictor base class, its registry keyed by card ``task``, and default-checkpoint lookup.

A predictor owns one model in eval mode and everything the card says about using it: input
size, normalisation, temperature, threshold. It keeps no per-call state, so one instance can
serve concurrent inspections. Subclasses implement :meth:`Predictor.build_model` and
:meth:`Predictor.predict`; the base class loads and checks the checkpoint and does the
preprocessing every image model shares.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import torch
from torch import nn

from core.errors import CheckpointError, InputError
from core.preprocessing.intensity import normalise_intensity
from core.registry import Registry

log = logging.getLogger(__name__)

__all__ = [
    "PREDICTORS",
    "DefectProbability",
    "Predictor",
    "create_predictor",
    "find_default_checkpoint",
    "list_predictors",
    "load_predictor",
    "register_predictor",
]

PREDICTORS: Registry[type[Predictor]] = Registry(
    "predictor",
    "inspector.predictors",
    attribute="task",
    error=CheckpointError,
    unknown="no predictor for checkpoints of task {name!r}; known: {known}",
)


def register_predictor(task: str, *, priority: int = 0) -> Callable[[type[Predictor]], type[Predictor]]:
    """Class decorator: use this predictor for checkpoint cards whose ``task`` is ``task``."""
    return PREDICTORS.register(task, priority=priority)


def list_predictors() -> list[str]:
    """Card tasks that have a predictor."""
    return PREDICTORS.names()


def create_predictor(state_dict: Mapping[str, torch.Tensor], card: Mapping[str, Any], **options) -> Predictor:
    """Build the predictor for ``card["task"]`` from loaded weights.

    Raises:
        CheckpointError: If no predictor handles the card's task.
    """
    return PREDICTORS.create(card.get("task"), state_dict, card, **options)


def load_predictor(path: str | Path, tasks: Sequence[str] | None = None, **options) -> Predictor:
    """Load a checkpoint (``NAME.safetensors`` + ``NAME.json``) into its predictor.

    Args:
        path: The checkpoint (``.safetensors``, ``.json`` or the stem).
        tasks: If given, the card's task must be one of these (e.g. ``("ct", "gain")`` for the
            CT side of an inspection).
        **options: Predictor options (threshold overrides, explainer, ...).

    Raises:
        CheckpointError: Missing/unreadable checkpoint, wrong task, or weights that do not fit.
    """
    from core.checkpoint import load_checkpoint

    state_dict, card = load_checkpoint(path)
    if tasks is not None and card.get("task") not in tasks:
        raise CheckpointError(
            f"{Path(path).name} is a {card.get('task') or 'unknown'} checkpoint; expected {' or '.join(tasks)}"
        )
    predictor = create_predictor(state_dict, card, **options)
    predictor.source = str(path)
    log.info("loaded %s predictor from %s (%s)", card.get("task"), path, card.get("architecture"))
    return predictor


def find_default_checkpoint(directory: str | Path, task: str) -> Path | None:
    """The checkpoint in ``directory`` whose card has ``task`` and ``"default": true``.

    When no card of that task is marked default but exactly one exists, that one is used.

    Returns:
        The ``.safetensors`` path, or ``None`` if the directory holds no checkpoint of ``task``.
    """
    directory = Path(directory)
    candidates: list[tuple[bool, Path]] = []
    for card_file in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            card = json.loads(card_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            continue
        weights = card_file.with_suffix(".safetensors")
        if isinstance(card, dict) and card.get("task") == task and weights.is_file():
            candidates.append((bool(card.get("default")), weights))
    defaults = [p for is_default, p in candidates if is_default]
    if len(defaults) > 1:
        log.warning("several default %s checkpoints in %s; using %s", task, directory, defaults[0].name)
    if defaults:
        return defaults[0]
    return candidates[0][1] if len(candidates) == 1 else None


class DefectProbability:
    """Mixin for prediction dataclasses that carry a ``defect_probability`` field."""

    defect_probability: float

    @property
    def normal_probability(self) -> float:
        """Probability that the side is normal (``ct_normal_prob`` of seed 002 §3 for CT)."""
        return 1.0 - self.defect_probability


class Predictor:
    """Base class: one model, its card, and the card's preprocessing.

    Subclasses override :meth:`build_model` and :meth:`predict`, and :meth:`setup` to read
    their own card fields and options; the base class resolves the options every predictor
    shares (device, threshold, box settings).

    Args:
        state_dict: Weights from :func:`core.checkpoint.load_checkpoint`.
        card: The checkpoint card.
        device: Torch device to run on.
        threshold: Override of the card's decision threshold (see :meth:`resolve_threshold`).
        box_threshold: Map level that delimits a defect region.
        min_box_area: Smallest region kept, in pixels (default: :attr:`default_min_box_area`).
        runtime: Where the inference graph runs (:mod:`inspector.runtime`: ``torch``, ``onnx``,
            ``onnx_int8``).
        calibration_dir: Folder of sample images the ``onnx_int8`` runtime calibrates on.
        **options: Predictor-specific options, passed to :meth:`setup`.

    Attributes:
        card: The checkpoint card.
        model: The model, in eval mode.
        input_hw: ``(height, width)`` the model is fed.
        mean, std: Per-channel normalisation from the card.
        threshold: The decision threshold.
        runtime: Name of the runtime the inference graph runs on.
        calibration_dir: Folder of sample images for runtimes that calibrate (``onnx_int8``).
        runner: The :class:`inspector.runtime.ModelRunner` of :meth:`build_graph` (``None``
            for a predictor without a graph).
        source: Where the checkpoint was loaded from (set by :func:`load_predictor`).
    """

    task: ClassVar[str] = ""
    in_chans: ClassVar[int] = 1
    default_min_box_area: ClassVar[int] = 16

    def __init__(
        self,
        state_dict: Mapping[str, torch.Tensor],
        card: Mapping[str, Any],
        device: str = "cpu",
        threshold: float | None = None,
        box_threshold: float = 0.5,
        min_box_area: int | None = None,
        runtime: str | None = None,
        calibration_dir: str | Path | None = None,
        **options: Any,
    ) -> None:
        from core.checkpoint import load_state_dict_strict

        self.card = dict(card)
        self.device = torch.device(device)
        self.source: str | None = None
        self.input_hw = self._input_hw(card.get("input_size"))
        norm = card.get("normalisation") or {}
        self.mean = self._per_channel(norm.get("mean", 0.0), "mean")
        self.std = self._per_channel(norm.get("std", 1.0), "std")
        self.intensity = (card.get("preprocessing") or {}).get("intensity")
        if np.any(self.std <= 0):
            raise CheckpointError(f"checkpoint normalisation std must be positive, got {self.std.tolist()}")
        from inspector.review import split_review_state

        model = self.build_model(self.card)
        state_dict, self.review_state = split_review_state(state_dict)
        load_state_dict_strict(model, state_dict, self.card)
        self.model = model.float().to(self.device).eval()
        self.box_threshold = float(box_threshold)
        self.min_box_area = int(min_box_area if min_box_area is not None else self.default_min_box_area)
        from inspector.runtime import DEFAULT_RUNTIME

        self.runtime = runtime or DEFAULT_RUNTIME
        self.calibration_dir = Path(calibration_dir) if calibration_dir else None
        self.setup(**options)
        self.threshold = self.resolve_threshold(threshold)
        self.runner = self.create_runner()

    def build_graph(self) -> Any:
        """The model's :class:`inspector.runtime.graphs.InferenceGraph`, or ``None``. Override this."""
        return None

    def create_runner(self) -> Any:
        """The runner of :meth:`build_graph` on :attr:`runtime` (``None`` without a graph).

        Raises:
            ConfigError: Unknown runtime, or a model the runtime cannot run.
        """
        from inspector.runtime import RUNTIMES, create_runner

        graph = self.build_graph()
        if graph is None:
            return None
        options: dict[str, Any] = {}
        if getattr(RUNTIMES.get(self.runtime), "needs_calibration", False) and graph.int8_quantisable:
            options["calibration"] = self.calibration_inputs()
        return create_runner(self.runtime, graph, **options)

    #: Most calibration slices read from :attr:`calibration_dir`.
    max_calibration_images: ClassVar[int] = 32

    def calibration_inputs(self) -> list[dict[str, np.ndarray]]:
        """Graph inputs of the images in :attr:`calibration_dir` (for int8 calibration).

        Unreadable files are skipped with a warning; an empty or missing folder gives ``[]``.
        """
        from core.imageio import load_image

        if self.calibration_dir is None or not self.calibration_dir.is_dir():
            return []
        files = sorted(
            p for p in self.calibration_dir.rglob("*") if p.suffix.lower() in (".png", ".tif", ".tiff", ".jpg", ".jpeg")
        )
        inputs: list[dict[str, np.ndarray]] = []
        for path in files[: self.max_calibration_images]:
            try:
                image = load_image(path, "ct" if self.in_chans == 1 else "rgb")
            except (InputError, OSError, ValueError) as exc:
                log.warning("calibration image %s skipped: %s", path.name, exc)
                continue
            inputs.append(self.calibration_input(image))
        return inputs

    def calibration_input(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """The graph inputs of one calibration image. Override this for predictors with a quantisable graph."""
        raise NotImplementedError(f"{type(self).__name__} has no int8 calibration inputs")

    def setup(self) -> None:
        """Read the card fields and options specific to this predictor. Override this.

        Runs after the model is built and before :meth:`resolve_threshold`; subclasses declare
        their own keyword options here (an unknown option is a ``TypeError``, as in any call).
        """

    def resolve_threshold(self, threshold: float | None) -> float:
        """The decision threshold: ``threshold`` if given, else the card's, else 0.5.

        Override for predictors whose threshold is not a probability.

        Raises:
            CheckpointError: If the threshold does not lie strictly between 0 and 1.
        """
        value = float(threshold if threshold is not None else self.card.get("threshold") or 0.5)
        if not 0.0 < value < 1.0:
            raise CheckpointError(
                f"{self.task.upper()} threshold must lie strictly between 0 and 1, got {value}"
            )
        return value

    def threshold_for(self, threshold: float | None) -> float:
        """The threshold of one call: ``threshold`` if given (validated), else :attr:`threshold`.

        Predictors are shared by every session, so a per-request threshold is passed to
        :meth:`predict` and never stored on the predictor.

        Raises:
            InputError: ``threshold`` does not lie strictly between 0 and 1.
        """
        if threshold is None:
            return self.threshold
        value = float(threshold)
        if not (np.isfinite(value) and 0.0 < value < 1.0):
            raise InputError(f"the {self.task.upper()} threshold must lie strictly between 0 and 1, got {threshold}")
        return value

    def build_model(self, card: Mapping[str, Any]) -> nn.Module:
        """Build the (untrained) model the card describes. Override this."""
        raise NotImplementedError

    def predict(self, image: np.ndarray, **kwargs) -> Any:
        """Predict one image. Override this."""
        raise NotImplementedError

    # -- shared preprocessing --------------------------------------------------------------
    def to_tensor(self, image: np.ndarray, intensity: bool = True) -> torch.Tensor:
        """Resize to the model input, normalise with the card's statistics, add a batch dim.

        Args:
            image: CT float ``[H, W]`` in ``[0, 1]`` or RGB ``uint8 [H, W, 3]``.
            intensity: Apply the card's intensity window (off for tiles of a view that was
                windowed as a whole, so every tile keeps the view's grey levels).

        Returns:
            FloatTensor ``[1, C, h, w]`` on the predictor's device.
        """
        array = np.asarray(image)
        array = array.astype(np.float32) / 255.0 if array.dtype == np.uint8 else array.astype(np.float32)
        if array.ndim == 2:
            array = array[..., None]
        if array.shape[-1] != self.in_chans:
            raise CheckpointError(
                f"{self.task} model expects {self.in_chans} channel(s), got {array.shape[-1]}"
            )
        h, w = self.input_hw
        if array.shape[:2] != (h, w):
            shrinking = array.shape[0] > h or array.shape[1] > w
            array = cv2.resize(array, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
            if array.ndim == 2:
                array = array[..., None]
        if intensity:
            array = normalise_intensity(array, self.intensity)  # as the last training transform
        array = (array - self.mean) / self.std
        return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None].to(self.device)

    def _per_channel(self, value: Any, what: str) -> np.ndarray:
        arr = np.asarray(value, dtype=np.float32).reshape(-1)
        if arr.size == 1:
            arr = np.repeat(arr, self.in_chans)
        if arr.size != self.in_chans:
            raise CheckpointError(
                f"checkpoint normalisation {what} has {arr.size} values for {self.in_chans} channels"
            )
        return arr

    @staticmethod
    def _input_hw(size: Any) -> tuple[int, int]:
        if isinstance(size, (int, float)) and size > 0:
            return int(size), int(size)
        if isinstance(size, Sequence) and not isinstance(size, str) and len(size) in (2, 3):
            h, w = (int(v) for v in size[-2:])
            if h > 0 and w > 0:
                return h, w
        raise CheckpointError(f"checkpoint card has no usable input_size (got {size!r})")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(architecture={self.card.get('architecture')!r}, source={self.source!r})"
        )
