"""The inspector: models loaded once, one inspection = models + explanations + verdict (+ VLM/VLG).

Two levels:

- :meth:`Inspector.analyse` is the fast, deterministic part: CT classifier with its attention
  map and boxes, RGB autoencoder with its error map and boxes, and the verdict. It keeps no
  per-call state, so concurrent sessions can share one :class:`Inspector`.
- :func:`run_inspection` adds the written finding (VLM) and text-prompted boxes (VLG), each in
  its own daemon thread with its own timeout. The verdict is computed first and handed to
  ``on_update`` before either backend starts; a slow or failing backend only fills its
  ``error`` and can never change or delay the verdict.

Example::

    inspector = Inspector.load(InspectorSettings())
    result = run_inspection(inspector, InspectionRequest(ct=ct, rgb=rgb, battery_type="module", axis="y"))
    result["verdict"], result["confidence"]
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import CheckpointError, InputError, InspectorError
from core.imageio import image_info
from inspector.calibration import VerdictCalibration, load_calibration
from inspector.drawing import overlay_heatmap
from inspector.executor import BackendPool, shared_pool
from inspector.predictors import CTPrediction, RGBPrediction, find_default_checkpoint, load_predictor
from inspector.review import ReviewPolicy, image_quality_reasons
from inspector.settings import InspectorSettings, Thresholds
from inspector.verdict import Verdict, combine

log = logging.getLogger(__name__)

__all__ = [
    "Evidence",
    "InspectionRequest",
    "Inspector",
    "InspectorSettings",
    "Thresholds",
    "finding_request",
    "run_inspection",
]

#: Card tasks accepted for each side of an inspection.
SIDE_TASKS: dict[str, tuple[str, ...]] = {"ct": ("ct", "gain"), "rgb": ("rgb",)}

UpdateCallback = Callable[[str, dict[str, Any]], None]

#: ``run_inspection(vlm=FROM_SETTINGS)``: use the backend named in the inspector's settings.
FROM_SETTINGS = "settings"


@dataclass
class InspectionRequest:
    """One inspection's inputs (decoded images, as :func:`core.imageio.load_image` gives).

    Attributes:
        ct: CT slice, float ``[H, W]`` in ``[0, 1]``, or ``None``.
        rgb: RGB photo, ``uint8 [H, W, 3]``, or ``None``.
        battery_type: ``"cell"`` or ``"module"`` (CT metadata).
        axis: ``"x"`` or ``"y"`` (CT metadata).
        lang: Language of the written finding, ``"ko"`` or ``"en"``.
        thresholds: This request's CT/RGB thresholds and policy (``None``: the inspector's).
    """

    ct: np.ndarray | None = None
    rgb: np.ndarray | None = None
    battery_type: str | None = None
    axis: str | None = None
    lang: str = "en"
    thresholds: Thresholds | None = None


@dataclass
class Evidence:
    """Everything :meth:`Inspector.analyse` found, as arrays for the UI and as contract JSON.

    Attributes:
        verdict: The combined verdict.
        ct: CT prediction (with its attention map), or ``None`` without a CT image.
        rgb: RGB prediction (with its error map), or ``None`` without an RGB image.
        timings_ms: Wall time per stage (``ct``, ``rgb``, ``verdict``, ``analyse``).
        ct_image: The CT input.
        rgb_image: The RGB input.
        battery_type: CT metadata given.
        axis: CT metadata given.
    """

    verdict: Verdict
    ct: CTPrediction | None
    rgb: RGBPrediction | None
    timings_ms: dict[str, float] = field(default_factory=dict)
    ct_image: np.ndarray | None = field(default=None, repr=False)
    rgb_image: np.ndarray | None = field(default=None, repr=False)
    battery_type: str | None = None
    axis: str | None = None
    image_reasons: list[str] = field(default_factory=list)

    @property
    def review_reasons(self) -> list[str]:
        """Why a person should look at this inspection (codes of :mod:`inspector.review`)."""
        reasons = list(self.image_reasons)
        for side in (self.ct, self.rgb):
            reasons += [r for r in getattr(side, "review_reasons", None) or [] if r not in reasons]
        return reasons

    @property
    def needs_review(self) -> bool:
        """True when any review reason fired."""
        return bool(self.review_reasons)

    @property
    def attention_map(self) -> np.ndarray | None:
        """CT attention ``[H, W]`` in ``[0, 1]`` at the CT input size."""
        return None if self.ct is None else self.ct.attention

    @property
    def error_map(self) -> np.ndarray | None:
        """RGB error map ``[H, W]`` in ``[0, 1]`` at the RGB input size."""
        return None if self.rgb is None else self.rgb.error_map

    @cached_property
    def ct_overlay(self) -> np.ndarray | None:
        """CT slice with its attention map, ``uint8 [H, W, 3]``."""
        if self.ct is None or self.ct_image is None or self.ct.attention is None:
            return None
        return overlay_heatmap(self.ct_image, self.ct.attention)

    @cached_property
    def rgb_overlay(self) -> np.ndarray | None:
        """RGB photo with its error map, ``uint8 [H, W, 3]``."""
        if self.rgb is None or self.rgb_image is None or self.rgb.error_map is None:
            return None
        return overlay_heatmap(self.rgb_image, self.rgb.error_map)

    def to_dict(self) -> dict[str, Any]:
        """The inspection JSON without ``vlm``/``vlg``: verdict, confidence, ct, rgb, timings_ms."""
        return {
            "verdict": self.verdict.verdict,
            "confidence": round(self.verdict.confidence, 6),
            "confidence_calibrated": self.verdict.calibrated,
            "confidence_raw": round(
                self.verdict.confidence if self.verdict.raw_confidence is None else self.verdict.raw_confidence, 6
            ),
            "needs_review": self.needs_review,
            "review_reasons": self.review_reasons,
            "ct": None if self.ct is None else self.ct.to_dict(),
            "rgb": None if self.rgb is None else self.rgb.to_dict(),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }

    def finding_request(self, lang: str = "en") -> Any:
        """The :class:`models.vlm.FindingRequest` that VLM and VLG backends consume."""
        from models.vlm.base import FindingRequest

        return FindingRequest(
            ct_image=self.ct_image,
            rgb_image=self.rgb_image,
            evidence={k: v for k, v in self.to_dict().items() if k != "timings_ms"},
            ct_attention=self.attention_map,
            rgb_error_map=self.error_map,
            ct_overlay=self.ct_overlay,
            rgb_overlay=self.rgb_overlay,
            battery_type=self.battery_type,
            axis=self.axis,
            lang=lang,
        )


class Inspector:
    """CT and RGB predictors loaded once, plus cached VLM/VLG backends.

    Build it with :meth:`load`. Safe to share between threads: :meth:`analyse` keeps no
    per-call state, and backend creation is guarded by a lock.

    Args:
        settings: The settings it was loaded with.
        ct: CT predictor, or ``None`` if no CT checkpoint is available.
        rgb: RGB predictor, or ``None`` if no RGB checkpoint is available.
        missing: Why a side has no predictor, ``{"ct": reason}``.
    """

    def __init__(
        self,
        settings: InspectorSettings,
        ct: Any | None = None,
        rgb: Any | None = None,
        missing: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.predictors: dict[str, Any | None] = {"ct": ct, "rgb": rgb}
        self.missing = dict(missing or {})
        self.calibration: VerdictCalibration | None = None
        self._backends: dict[tuple[str, str], Any] = {}
        self._backends_lock = threading.Lock()
        self._backend_locks: dict[tuple[str, str], threading.Lock] = {}

    @classmethod
    def load(
        cls, settings: InspectorSettings | None = None, sides: tuple[str, ...] = ("ct", "rgb")
    ) -> Inspector:
        """Load the predictors of ``sides`` once.

        A side without an explicit checkpoint uses the default card of its task in
        ``settings.checkpoints_dir``; if there is none, that side is recorded as missing and only
        an inspection that needs it fails.

        Raises:
            CheckpointError: An explicitly given checkpoint is missing, unreadable, or of the
                wrong task.
        """
        settings = settings or InspectorSettings()
        options = {
            "ct": {
                "threshold": settings.ct_threshold,
                "explainer": settings.explainer,
                "box_threshold": settings.attention_box_threshold,
                "calibration_dir": settings.int8_calibration,
            },
            "rgb": {"threshold": settings.rgb_threshold, "box_threshold": settings.error_box_threshold},
        }
        predictors: dict[str, Any] = {}
        missing: dict[str, str] = {}
        for side in sides:
            path = getattr(settings, f"{side}_checkpoint")
            if path is None:
                path = find_default_checkpoint(settings.checkpoints_dir, side)
            if path is None:
                missing[side] = (
                    f"no {side.upper()} checkpoint in {settings.checkpoints_dir}; "
                    f"pass --{side}-checkpoint or train one with `python -m inspector train {side}`"
                )
                continue
            predictors[side] = load_predictor(
                path, tasks=SIDE_TASKS[side], device=settings.device, runtime=settings.runtime, **options[side]
            )
        inspector = cls(settings, ct=predictors.get("ct"), rgb=predictors.get("rgb"), missing=missing)
        inspector.calibration = load_calibration(settings.checkpoints_dir)
        return inspector

    def checkpoint_names(self) -> dict[str, str | None]:
        """``{"ct": stem, "rgb": stem}`` of the loaded checkpoints (``None`` for a missing side)."""
        names: dict[str, str | None] = {}
        for side, predictor in self.predictors.items():
            source = getattr(predictor, "source", None)
            names[side] = Path(source).stem if source else None
        return names

    def _calibration_for(self, thresholds: Thresholds, policy: str, paired: bool) -> VerdictCalibration | None:
        """The stored calibration if it was fitted for exactly this kind of inspection, else ``None``.

        It applies to CT+RGB pairs judged by the checkpoints it was fitted for, at their own
        thresholds and with the same policy; anything else keeps the raw confidence.
        """
        calibration = self.calibration
        if calibration is None or not paired:
            return None
        custom = (thresholds.ct, thresholds.rgb, self.settings.ct_threshold, self.settings.rgb_threshold)
        if any(value is not None for value in custom):
            return None
        return calibration if calibration.applies_to(self.checkpoint_names(), policy) else None

    def _predictor(self, side: str) -> Any:
        predictor = self.predictors.get(side)
        if predictor is None:
            raise CheckpointError(self.missing.get(side) or f"no {side.upper()} model is loaded")
        return predictor

    def analyse(
        self,
        ct: np.ndarray | None = None,
        rgb: np.ndarray | None = None,
        battery_type: str | None = None,
        axis: str | None = None,
        thresholds: Thresholds | None = None,
    ) -> Evidence:
        """Run the models on the images given and combine them into a verdict.

        Args:
            ct: CT slice (float ``[H, W]`` in ``[0, 1]``) or ``None``.
            rgb: RGB photo (``uint8 [H, W, 3]``) or ``None``.
            battery_type: ``"cell"`` or ``"module"``.
            axis: ``"x"`` or ``"y"``.
            thresholds: This call's CT/RGB thresholds and verdict policy; a ``None`` field (or
                ``thresholds=None``) uses the loaded models' and the settings' value. Nothing
                of it is stored, so concurrent callers with different thresholds share one
                inspector.

        Raises:
            InputError: Neither image is given, or an image/metadata is invalid.
            CheckpointError: The model for a given image is not available.
        """
        if ct is None and rgb is None:
            raise InputError("give a CT image, an RGB image, or both")
        thresholds = thresholds or Thresholds()
        timings: dict[str, float] = {}
        start = time.perf_counter()
        ct_pred = rgb_pred = None
        image_reasons = []
        if ct is not None:
            policy = getattr(self._predictor("ct"), "review_policy", None) or ReviewPolicy()
            image_reasons += image_quality_reasons(ct, policy, image_info(ct), prefix="ct")
        if rgb is not None:
            image_reasons += image_quality_reasons(rgb, ReviewPolicy(), image_info(rgb), prefix="rgb")
        if ct is not None:
            t = time.perf_counter()
            ct_pred = self._predictor("ct").predict(
                ct, battery_type=battery_type, axis=axis, threshold=thresholds.ct
            )
            timings["ct"] = (time.perf_counter() - t) * 1000
        if rgb is not None:
            t = time.perf_counter()
            rgb_pred = self._predictor("rgb").predict(rgb, threshold=thresholds.rgb)
            timings["rgb"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        policy = thresholds.policy or self.settings.policy
        calibration = self._calibration_for(thresholds, policy, ct_pred is not None and rgb_pred is not None)
        verdict = combine(ct_pred, rgb_pred, policy=policy, calibration=calibration)
        timings["verdict"] = (time.perf_counter() - t) * 1000
        timings["analyse"] = (time.perf_counter() - start) * 1000
        return Evidence(verdict, ct_pred, rgb_pred, timings, ct, rgb, battery_type, axis, image_reasons)

    def backend(self, kind: str, name: str) -> Any:
        """The VLM (``kind="vlm"``) or VLG backend ``name``, created once and cached.

        Raises:
            InspectorError: Unknown backend name, or the backend package cannot be imported.
        """
        key = (kind, name)
        with self._backends_lock:  # one lock per backend: a slow VLM load never blocks the VLG
            lock = self._backend_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._backends:
                try:
                    if kind == "vlm":
                        from models.vlm import create_vlm as create
                    else:
                        from models.vlg import create_vlg as create
                except ImportError as exc:
                    raise InspectorError(
                        f"{kind.upper()} backends are not available in this build ({exc})"
                    ) from exc
                self._backends[key] = create(name, **self.settings.backend_options.get(name, {}))
            return self._backends[key]


def finding_request(evidence: Evidence, lang: str = "en") -> Any:
    """The :class:`models.vlm.FindingRequest` of ``evidence`` (what VLM/VLG backends consume)."""
    return evidence.finding_request(lang)


def _empty(kind: str, name: str | None, error: str, available: bool = False) -> dict[str, Any]:
    payload = "finding" if kind == "vlm" else "boxes"
    return {"backend": name, "available": available, payload: None, "error": error, "latency_ms": None}


def vlm_request(backend: Any, request: Any, mode: str) -> tuple[Any, str]:
    """The request a VLM gets in ``mode`` and the mode it really ran in.

    ``blind`` drops every piece of inspector evidence; a writer that is not a model
    (``findings_writer``) has nothing but that evidence to go on, so it always gets it.
    """
    if mode == "blind" and getattr(backend, "is_model", True):
        return request.blind(), "blind"
    return request, "evidence"


def _run_backend(
    inspector: Inspector, kind: str, name: str, request: Any, status: dict, out: queue.Queue
) -> None:
    """Thread body: create/check/run one backend and put ``(kind, section)`` on ``out``."""
    payload = "finding" if kind == "vlm" else "boxes"
    start = time.perf_counter()
    section = _empty(kind, name, "")
    try:
        backend = inspector.backend(kind, name)
        availability = backend.availability()
        status["available"] = section["available"] = bool(availability.ok)
        if not availability.ok:
            section["error"] = availability.reason or f"{name} is not available"
        elif kind == "vlm":
            sent, section["mode"] = vlm_request(backend, request, status.get("mode", "evidence"))
            section[payload] = backend.describe(sent).to_dict()
        else:
            section[payload] = backend.detect(request)
            section["verdict"], section["confidence"] = backend.verdict(section[payload], request.modalities())
            section["threshold"] = backend.verdict_threshold
    except InspectorError as exc:
        section["error"] = str(exc)
    except Exception as exc:  # a backend bug must not take the inspection down
        log.debug("%s backend %s failed", kind, name, exc_info=True)
        section["error"] = f"{name} failed: {type(exc).__name__}: {exc}"
    section["error"] = section["error"] or None
    section["latency_ms"] = round((time.perf_counter() - start) * 1000, 1)
    out.put((kind, section))


def run_inspection(
    inspector: Inspector,
    request: InspectionRequest,
    vlm: str | None = FROM_SETTINGS,
    vlg: str | None = FROM_SETTINGS,
    timeouts: dict[str, float] | None = None,
    on_update: UpdateCallback | None = None,
    evidence: Evidence | None = None,
    vlm_mode: str | None = None,
    pool: BackendPool | None = None,
) -> dict[str, Any]:
    """One full inspection: verdict first, then VLM and VLG in parallel, each with a timeout.

    Args:
        inspector: A loaded :class:`Inspector`.
        request: Images, CT metadata and language.
        vlm: VLM backend name; ``None``/``"none"`` disables it; default: the settings' one.
        vlg: VLG backend name; ``None``/``"none"`` disables it; default: the settings' one.
        timeouts: ``{"vlm": seconds, "vlg": seconds}``; default: the settings' ones.
        on_update: Called as ``on_update(stage, result)`` with ``stage`` ``"verdict"`` (models
            and verdict done; ``vlm``/``vlg`` still ``None``), then ``"vlm"`` and ``"vlg"`` as
            each finishes or times out. ``result`` is the inspection JSON so far (a copy).
        evidence: The result of ``inspector.analyse`` for this request, if the caller already
            has it (it is not recomputed).
        vlm_mode: ``"blind"`` or ``"evidence"``; default: the settings' one.
        pool: Where the backends run (default: the process-wide :func:`shared_pool`, so the
            number of backend calls running at once is bounded across sessions). A backend
            that times out while still queued is cancelled and never runs; one that is running
            gets its request's cancel event set and is no longer waited for.

    Returns:
        The inspection JSON: ``verdict, confidence, ct, rgb, vlm, vlg, timings_ms``.

    Raises:
        InputError, CheckpointError: From :meth:`Inspector.analyse` (bad input, missing model).
    """
    settings = inspector.settings
    names = {
        "vlm": settings.vlm if vlm == FROM_SETTINGS else vlm,
        "vlg": settings.vlg if vlg == FROM_SETTINGS else vlg,
    }
    names = {k: None if v in (None, "", "none") else v for k, v in names.items()}
    limits = {"vlm": settings.vlm_timeout_s, "vlg": settings.vlg_timeout_s, **(timeouts or {})}
    start = time.perf_counter()

    earlier_ms = 0.0
    if evidence is None:
        evidence = inspector.analyse(
            request.ct, request.rgb, request.battery_type, request.axis, thresholds=request.thresholds
        )
    else:
        earlier_ms = evidence.timings_ms.get("analyse", 0.0)
    result = evidence.to_dict()
    result["vlm"] = result["vlg"] = None
    timings = result.pop("timings_ms")
    result["timings_ms"] = timings

    def notify(stage: str) -> None:
        if on_update is None:
            return
        try:
            on_update(stage, {**result, "timings_ms": dict(timings)})
        except Exception:  # the caller's display must not break the inspection
            log.warning("on_update(%r) raised; continuing", stage, exc_info=True)

    notify("verdict")

    pool = pool or shared_pool()
    pending: dict[str, float] = {}
    futures: dict[str, Any] = {}
    cancels: dict[str, threading.Event] = {}
    statuses: dict[str, dict] = {}
    done: queue.Queue = queue.Queue()
    finding_request = None
    for kind in ("vlm", "vlg"):
        name = names[kind]
        if name is None:
            result[kind] = _empty(kind, None, f"no {kind.upper()} backend selected")
            continue
        if finding_request is None:
            try:
                finding_request = evidence.finding_request(request.lang)
            except ImportError as exc:
                result[kind] = _empty(kind, name, f"VLM/VLG backends are not available in this build ({exc})")
                continue
        statuses[kind] = {"available": None, "mode": vlm_mode or settings.vlm_mode}
        cancels[kind] = threading.Event()
        sent = dataclasses.replace(finding_request, cancel=cancels[kind])
        pending[kind] = time.perf_counter() + float(limits[kind])
        futures[kind] = pool.submit(_run_backend, inspector, kind, name, sent, statuses[kind], done)

    while pending:
        wait = max(0.0, min(pending.values()) - time.perf_counter())
        try:
            kind, section = done.get(timeout=wait)
        except queue.Empty:
            now = time.perf_counter()
            for kind in [k for k, deadline in pending.items() if deadline <= now]:
                del pending[kind]
                cancels[kind].set()  # a running backend stops at its next check
                queued = futures[kind].cancel()  # a queued one never starts
                reason = " waiting for a free backend slot" if queued else ""
                result[kind] = _empty(
                    kind,
                    names[kind],
                    f"{names[kind]} timed out after {limits[kind]:g} s{reason}",
                    available=bool(statuses[kind]["available"]),
                )
                result[kind]["latency_ms"] = round(float(limits[kind]) * 1000, 1)
                timings[kind] = result[kind]["latency_ms"]
                notify(kind)
            continue
        if kind not in pending:
            continue  # finished after its timeout: ignore
        del pending[kind]
        result[kind] = section
        timings[kind] = section["latency_ms"]
        notify(kind)

    timings["total"] = round(earlier_ms + (time.perf_counter() - start) * 1000, 1)
    return result
