"""The VLM interface: a request carrying the inspector's evidence, a structured finding back.

A backend subclasses :class:`VLMBackend` and overrides two hooks:

* ``_check_availability()`` -> :class:`Availability` (cached by the base class), and
* ``_generate(request)`` -> a raw finding ``dict`` (the model's answer, see
  :data:`models.vlm.prompts.FINDING_SCHEMA`).

The base class does the shared work: availability caching, the language check, timing,
wrapping unexpected exceptions into one-sentence :class:`BackendError`, turning the model's
normalised boxes into pixel boxes, and validating the result into a :class:`Finding`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.errors import BackendUnavailable, ConfigError, InputError, InspectorError
from models.vlm.verdicts import CT_CLASSES, RGB_CLASSES, clip01, derive_verdict, parse_class, parse_verdict

log = logging.getLogger(__name__)

SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
LANGUAGES: tuple[str, ...] = ("ko", "en")
#: VLM modes: ``blind`` sends only the images and the battery metadata (an independent judge),
#: ``evidence`` also the inspector's maps, scores and verdict.
VLM_MODES: tuple[str, ...] = ("blind", "evidence")
MODALITIES: tuple[str, ...] = ("ct", "rgb")


def models_dir() -> Path:
    """Where local model weights live: ``$MODELS_DIR``, default ``./models_cache``."""
    return Path(os.environ.get("MODELS_DIR") or "models_cache")


def weights_dir(configured: str | os.PathLike | None, default_name: str) -> Path:
    """A backend's weight folder: the configured path, else ``models_dir() / default_name``."""
    return Path(configured) if configured else models_dir() / default_name


class BackendError(InspectorError):
    """A VLM/VLG backend was available but failed (timeout, HTTP error, unparseable answer)."""


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here and, if not, why (one human sentence)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass
class FindingRequest:
    """Everything a VLM or VLG backend may look at for one inspection.

    Attributes:
        ct_image: CT slice as float ``HxW`` in ``[0, 1]``, or ``None``.
        rgb_image: RGB photo as ``uint8`` ``HxWx3``, or ``None``.
        evidence: The inspection JSON parts: ``ct`` {label, probabilities, is_defect,
            confidence, boxes}, ``rgb`` {score, threshold, is_defect, confidence, boxes},
            ``verdict``, ``confidence``. Missing sides are ``None`` or absent.
        ct_attention: CT attention map ``HxW`` in ``[0, 1]`` (Grad-CAM or GAIN), or ``None``.
        rgb_error_map: RGB reconstruction-error map ``HxW`` (any non-negative scale), or ``None``.
        ct_overlay: CT attention overlay as ``uint8`` RGB, or ``None``.
        rgb_overlay: RGB error-map overlay as ``uint8`` RGB, or ``None``.
        battery_type: ``"cell"`` or ``"module"`` (CT metadata), or ``None``.
        axis: ``"x"`` or ``"y"`` (CT metadata), or ``None``.
        lang: Output language, ``"ko"`` or ``"en"``.
        mode: ``"evidence"`` (the request carries the inspector's evidence) or ``"blind"``
            (images and metadata only; see :meth:`blind`).
        cancel: Set by the caller when it stops waiting (timeout); backends check
            :attr:`cancelled` and stop early.
    """

    ct_image: np.ndarray | None = None
    rgb_image: np.ndarray | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    ct_attention: np.ndarray | None = None
    rgb_error_map: np.ndarray | None = None
    ct_overlay: np.ndarray | None = None
    rgb_overlay: np.ndarray | None = None
    battery_type: str | None = None
    axis: str | None = None
    lang: str = "en"
    mode: str = "evidence"
    cancel: threading.Event | None = field(default=None, repr=False, compare=False)

    @property
    def cancelled(self) -> bool:
        """Whether the caller gave up on this request (timeout); backends stop when they see it."""
        return self.cancel is not None and self.cancel.is_set()

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise InputError(f"language must be one of {', '.join(LANGUAGES)}, not {self.lang!r}")
        if self.mode not in VLM_MODES:
            raise InputError(f"VLM mode must be one of {', '.join(VLM_MODES)}, not {self.mode!r}")
        self.evidence = dict(self.evidence or {})

    def blind(self) -> FindingRequest:
        """The same inspection without any inspector evidence: images and battery metadata only."""
        return FindingRequest(
            ct_image=self.ct_image,
            rgb_image=self.rgb_image,
            battery_type=self.battery_type,
            axis=self.axis,
            lang=self.lang,
            mode="blind",
            cancel=self.cancel,
        )

    def with_mode(self, mode: str) -> FindingRequest:
        """This request for VLM ``mode`` (``blind`` drops the evidence; ``evidence`` keeps it)."""
        if mode not in VLM_MODES:
            raise InputError(f"VLM mode must be one of {', '.join(VLM_MODES)}, not {mode!r}")
        return self.blind() if mode == "blind" else self

    def image(self, modality: str) -> np.ndarray | None:
        """Return the input image of ``modality`` (``"ct"`` or ``"rgb"``), or ``None``."""
        return {"ct": self.ct_image, "rgb": self.rgb_image}[modality]

    def modalities(self) -> list[str]:
        """The modalities whose input image is present, CT first."""
        return [m for m in MODALITIES if self.image(m) is not None]

    def image_size(self, modality: str) -> tuple[int, int]:
        """Return ``(width, height)`` of the input image of ``modality``."""
        image = self.image(modality)
        if image is None:
            raise InputError(f"the request has no {modality.upper()} image")
        return int(image.shape[1]), int(image.shape[0])

    def image_rgb8(self, modality: str) -> np.ndarray:
        """The input image of ``modality`` as ``uint8`` ``HxWx3`` (what vision models consume)."""
        image = self.image(modality)
        if image is None:
            raise InputError(f"the request has no {modality.upper()} image")
        return to_rgb8(image)

    def overlay(self, modality: str) -> np.ndarray | None:
        """The explanation overlay of ``modality`` (attention or error map), or ``None``."""
        return {"ct": self.ct_overlay, "rgb": self.rgb_overlay}[modality]

    def explanation_map(self, modality: str) -> np.ndarray | None:
        """The raw explanation map of ``modality`` (CT attention or RGB error map), or ``None``."""
        return {"ct": self.ct_attention, "rgb": self.rgb_error_map}[modality]


@dataclass
class Finding:
    """A structured written finding (the ``finding`` of the inspection JSON contract).

    Attributes:
        defect_detected: Whether the writer judges the battery defective.
        defect_type: Defect type (e.g. ``porosity``, ``scratch``) or ``none``.
        location: Where the defect lies, in words.
        boxes: ``[{label, score, box: [x, y, w, h]}]`` in input-image pixels (optionally with
            ``modality``).
        severity: One of :data:`SEVERITIES`.
        probable_cause: Most likely root cause.
        recommended_action: What to do with the battery / the process.
        summary: One or two sentences for the report.
        language: ``"ko"`` or ``"en"``.
        verdict: ``normal``, ``internal_defect``, ``external_defect`` or ``composite_defect``
            (derived from the other fields when the model gives none).
        confidence: The writer's confidence in its verdict, 0-1.
        ct_class: Zero-shot CT class (one of the 5 CT classes) or ``None`` without a CT image.
        ct_class_confidence: Its confidence, 0-1, or ``None``.
        rgb_class: Zero-shot RGB class (normal | pollution | scratch | damage) or ``None``.
        rgb_class_confidence: Its confidence, 0-1, or ``None``.
    """

    defect_detected: bool
    defect_type: str
    location: str
    boxes: list[dict[str, Any]]
    severity: str
    probable_cause: str
    recommended_action: str
    summary: str
    language: str
    verdict: str | None = None
    confidence: float | None = None
    ct_class: str | None = None
    ct_class_confidence: float | None = None
    rgb_class: str | None = None
    rgb_class_confidence: float | None = None

    def __post_init__(self) -> None:
        self.defect_detected = bool(self.defect_detected)
        self.severity = str(self.severity).strip().lower()
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}")
        for key in ("defect_type", "location", "probable_cause", "recommended_action", "summary"):
            value = getattr(self, key)
            setattr(self, key, "" if value is None else str(value).strip())
        self.defect_type = self.defect_type or "none"
        self.boxes = [validate_box(b) for b in (self.boxes or [])]
        self.ct_class = parse_class(self.ct_class, CT_CLASSES)
        self.rgb_class = parse_class(self.rgb_class, RGB_CLASSES)
        self.ct_class_confidence = None if self.ct_class is None else clip01(self.ct_class_confidence, 0.5)
        self.rgb_class_confidence = None if self.rgb_class is None else clip01(self.rgb_class_confidence, 0.5)
        modalities = sorted({b.get("modality") for b in self.boxes if b.get("modality")})
        self.verdict = parse_verdict(self.verdict) or derive_verdict(
            self.defect_detected, self.defect_type, self.boxes, self.ct_class, self.rgb_class, modalities
        )
        if self.verdict != "normal":
            self.defect_detected = True
        elif self.defect_detected and self.defect_type == "none":
            self.defect_detected = False
        self.confidence = clip01(self.confidence, 0.5)

    def to_dict(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict with exactly the contract keys."""
        return asdict(self)


def parse_bool_loose(value: Any) -> bool:
    """A truthy model answer (``True``, ``"yes"``, 1) as a bool."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "y", "1", "defect", "defective"}
    return bool(value)


def validate_box(box: dict[str, Any]) -> dict[str, Any]:
    """Check a contract box ``{label, score, box: [x, y, w, h]}`` and return a clean copy.

    Extra keys (``modality``, ``source``, ``prompt``) are kept.
    """
    try:
        x, y, w, h = (float(v) for v in box["box"])
        out = dict(box)
        out["label"] = str(box["label"])
        out["score"] = float(box.get("score", 1.0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a box {{label, score, box: [x, y, w, h]}}: {box!r}") from exc
    if w < 0 or h < 0:
        raise ValueError(f"box width and height must be non-negative: {box!r}")
    out["box"] = [round(x, 1), round(y, 1), round(w, 1), round(h, 1)]
    return out


def to_rgb8(image: np.ndarray) -> np.ndarray:
    """Convert a CT float ``HxW`` image in ``[0, 1]`` or an RGB image to ``uint8`` ``HxWx3``."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        scale = 65535.0 if array.dtype == np.uint16 else (255.0 if array.max(initial=0) > 1.0 else 1.0)
        array = np.clip(array.astype(np.float32) / scale, 0.0, 1.0)
        array = (array * 255.0 + 0.5).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]
    if array.ndim != 3 or array.shape[2] != 3:
        raise InputError(f"expected a grayscale or RGB image, got shape {tuple(np.shape(image))}")
    return np.ascontiguousarray(array)


class CachedAvailability(ABC):
    """Mixin of the VLM and VLG backends: :meth:`availability` over a cheap check hook.

    Subclasses implement :meth:`_check_availability` and set ``self._availability = None``.
    """

    name: ClassVar[str] = ""
    _availability: Availability | None

    @abstractmethod
    def _check_availability(self) -> Availability:
        """Check (cheaply: files, keys, packages) whether this backend can run."""

    def availability(self) -> Availability:
        """Whether this backend can run here.

        A positive answer is cached; a negative one is re-checked on the next call (the checks
        are cheap), so a key or weights added while the app runs are picked up.
        """
        if self._availability is None or not self._availability.ok:
            try:
                self._availability = self._check_availability()
            except Exception as exc:  # a broken optional dependency must not crash the app
                log.debug("%s availability check failed", self.name, exc_info=True)
                self._availability = Availability(False, f"{self.name} cannot be loaded ({exc})")
        return self._availability


class VLMBackend(CachedAvailability):
    """Base class of the VLM backends: subclasses implement two hooks, the base does the rest.

    Attributes:
        name: Registry name (``--vlm NAME``).
        label: Human name for the UI.
        is_model: ``False`` for writers that are not a vision-language model (the UI must then
            say the finding was written from the inspector's evidence).
        paid: A paid API (the compare bench estimates its tokens and may skip it).
        last_latency_ms: Wall time of the last :meth:`describe` call.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    is_model: ClassVar[bool] = True
    #: A paid API (each call costs tokens): the compare bench estimates its tokens.
    paid: ClassVar[bool] = False

    def __init__(self, **unknown: Any) -> None:
        """Subclasses declare their options and pass the rest here; any left over is a typo.

        Raises:
            ConfigError: ``unknown`` is not empty.
        """
        if unknown:
            raise ConfigError(f"unknown option(s) for the {self.name} VLM: {', '.join(sorted(unknown))}")
        self._availability: Availability | None = None
        self.last_latency_ms: float | None = None

    # -- hooks -----------------------------------------------------------------------------
    @abstractmethod
    def _generate(self, request: FindingRequest) -> dict[str, Any]:
        """Return the raw finding dict for ``request`` (boxes already in pixels)."""

    # -- shared work -----------------------------------------------------------------------
    def describe(self, request: FindingRequest) -> Finding:
        """Write the finding for one inspection.

        Args:
            request: Images, explanation maps and the inspector's evidence.

        Returns:
            The validated finding, in ``request.lang``.

        Raises:
            BackendUnavailable: The backend cannot run here (reason from :meth:`availability`).
            BackendError: The backend ran but failed or answered something unusable.
        """
        status = self.availability()
        if not status.ok:
            raise BackendUnavailable(status.reason)
        if request.cancelled:
            raise BackendError(f"{self.name} was cancelled (the inspection gave up waiting)")
        start = time.perf_counter()
        try:
            raw = self._generate(request)
            raw = {**raw, "language": request.lang}
            if not raw.get("verdict") and not any(b.get("modality") for b in raw.get("boxes") or []):
                present = request.modalities()
                raw["verdict"] = derive_verdict(
                    parse_bool_loose(raw.get("defect_detected")),
                    str(raw.get("defect_type") or ""),
                    [],
                    parse_class(raw.get("ct_class"), CT_CLASSES),
                    parse_class(raw.get("rgb_class"), RGB_CLASSES),
                    present,
                )
            return Finding(**{k: raw.get(k) for k in Finding.__dataclass_fields__})
        except InspectorError:
            raise
        except (TypeError, ValueError) as exc:
            raise BackendError(f"{self.name} gave an unusable finding: {exc}") from exc
        except Exception as exc:
            log.debug("%s failed", self.name, exc_info=True)
            raise BackendError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            self.last_latency_ms = (time.perf_counter() - start) * 1000.0
            log.debug("%s finished in %.0f ms", self.name, self.last_latency_ms)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
