"""What the pages do: load the shared inspector, run an inspection, keep it in the history."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from core.errors import InputError, InspectorError
from core.imageio import load_image
from inspector.drawing import draw_boxes, png_bytes, side_by_side
from inspector.pipeline import InspectionRequest, Thresholds
from inspector.ui import resources
from inspector.ui.catalog import checkpoints_dir
from inspector.ui.runner import InspectionJob, start_inspection
from inspector.ui.state import NONE_BACKEND, UISettings

log = logging.getLogger(__name__)

#: Largest accepted image upload (also enforced by the uploaders and .streamlit/config.toml).
MAX_IMAGE_MB = 25
MAX_IMAGE_BYTES = MAX_IMAGE_MB * 1024 * 1024
#: Accepted by the uploaders; GIF too, so that the decoder can say why it is refused.
IMAGE_TYPES: list[str] = ["png", "jpg", "jpeg", "tif", "tiff", "dcm", "bmp", "webp", "gif"]


@dataclass
class PendingInspection:
    """Validated inputs waiting for the Summary page to inspect them."""

    ct: np.ndarray | None
    rgb: np.ndarray | None
    inputs: dict[str, Any]
    settings: UISettings
    lang: str
    user: str = "local"

    def run(self) -> InspectionJob:
        """Inspect (see :func:`run_inspection_for_session`).

        Raises:
            InputError: an image the operator gave is missing from the request.
        """
        check_complete(self.ct, self.rgb, self.inputs)
        return run_inspection_for_session(
            self.ct,
            self.rgb,
            battery_type=self.inputs.get("battery_type") or "cell",
            axis=self.inputs.get("axis") or "x",
            settings=self.settings,
            lang=self.lang,
            inputs=self.inputs,
            user=self.user,
        )


def check_complete(ct: Any, rgb: Any, inputs: dict[str, Any]) -> None:
    """Refuse a request that carries fewer images than the operator gave.

    ``inputs`` names the files chosen (``{"ct": name, "rgb": name}``); every named side must
    have its decoded image, so an inspection never silently runs on the CT alone.

    Raises:
        InputError: a named image is missing from the request.
    """
    for side, image in (("ct", ct), ("rgb", rgb)):
        if inputs.get(side) and image is None:
            raise InputError(
                f"The {side.upper()} image {safe_name(inputs[side])!r} is missing from the inspection "
                "request; nothing was inspected. Press Run again."
            )


def safe_name(name: Any) -> str:
    """A file name fit for a one-line message: control characters shown as ``?``."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(name))


def load_shared(settings: UISettings) -> resources.SharedInspector:
    """The process-wide inspector of the chosen CT and RGB checkpoints and runtime (loaded once, then cached).

    Only the checkpoints and the runtime pick the cached instance; thresholds and policy go with
    each request (:func:`thresholds`), so no session can evict or reload the models of the others.
    """
    folder = checkpoints_dir()
    ct_checkpoint = str(folder / f"{settings.ct_model}.safetensors") if settings.ct_model else None
    rgb_checkpoint = str(folder / f"{settings.rgb_model}.safetensors") if settings.rgb_model else None
    return resources.shared_inspector(str(folder), ct_checkpoint, rgb_checkpoint, settings.runtime)


def warm_up(settings: UISettings) -> None:
    """Load the models of ``settings`` and run one warm-up inspection (once per process and choice).

    Raises:
        CheckpointError: the chosen checkpoint cannot be loaded.
    """
    folder = checkpoints_dir()
    ct_checkpoint = str(folder / f"{settings.ct_model}.safetensors") if settings.ct_model else None
    rgb_checkpoint = str(folder / f"{settings.rgb_model}.safetensors") if settings.rgb_model else None
    resources.warm_inspector(str(folder), ct_checkpoint, rgb_checkpoint, settings.runtime)
    resources.warm_up()


def thresholds(settings: UISettings) -> Thresholds:
    """The session's CT/RGB thresholds and policy as per-request :class:`Thresholds`.

    Raises:
        ConfigError: a threshold out of range.
    """
    return Thresholds(ct=settings.ct_threshold, rgb=settings.rgb_threshold, policy=settings.policy)


def decode(source: str | Path | bytes | IO[bytes] | None, modality: str, name: str | None = None) -> Any:
    """Decode one upload or sample file, or ``None`` if nothing was given.

    Raises:
        InputError: the file is corrupt, too large or not an image.
    """
    if source is None:
        return None
    return load_image(source, modality, max_bytes=MAX_IMAGE_BYTES, name=name)


def run_inspection_for_session(
    ct: Any,
    rgb: Any,
    *,
    battery_type: str,
    axis: str,
    settings: UISettings,
    lang: str,
    inputs: dict[str, Any],
    user: str = "local",
) -> InspectionJob:
    """Inspect decoded images: the verdict now, VLM/VLG in the background, stored in the history.

    The history row carries ``user``, and an audit row records who inspected which files with
    which models, thresholds and backends.

    Raises:
        InputError, CheckpointError: bad input or a missing model.
    """
    check_complete(ct, rgb, inputs)
    shared = load_shared(settings)
    store = _store()
    chosen = thresholds(settings)

    def on_verdict(job: InspectionJob) -> None:
        if store is None:
            return
        try:
            job.history_id = store.add(
                job.snapshot(),
                ct_name=inputs.get("ct"),
                rgb_name=inputs.get("rgb"),
                thumbnail=thumbnail(job),
                user=user,
            )
        except Exception:
            log.exception("could not store the inspection in the history")
        try:
            store.audit(user, "inspect", audit_detail(shared.inspector, inputs, chosen, settings, job))
        except Exception:
            log.exception("could not write the audit row of inspection #%s", job.history_id)

    def on_complete(job: InspectionJob) -> None:
        if store is not None and job.history_id is not None:
            try:
                store.update(job.history_id, job.snapshot())
            except Exception:
                log.exception("could not update inspection #%s in the history", job.history_id)

    return start_inspection(
        shared.inspector,
        InspectionRequest(
            ct=ct, rgb=rgb, battery_type=battery_type, axis=axis, lang=lang, thresholds=chosen
        ),
        vlm=None if settings.vlm == NONE_BACKEND else settings.vlm,
        vlg=None if settings.vlg == NONE_BACKEND else settings.vlg,
        timeouts={"vlm": settings.timeout_s, "vlg": settings.timeout_s},
        vlm_mode=settings.vlm_mode,
        inputs=inputs,
        lock=shared.lock,
        on_verdict=on_verdict,
        on_complete=on_complete,
    )


def audit_detail(
    inspector: Any, inputs: dict[str, Any], chosen: Thresholds, settings: UISettings, job: Any = None
) -> dict[str, Any]:
    """What an audit row says about one inspection: files, models, thresholds, backends, result."""
    models = {
        side: Path(predictor.source).name if getattr(predictor, "source", None) else None
        for side, predictor in (getattr(inspector, "predictors", None) or {}).items()
        if predictor is not None
    }
    detail: dict[str, Any] = {
        "inputs": dict(inputs),
        "models": models,
        "thresholds": chosen.to_dict(),
        "vlm": settings.vlm,
        "vlg": settings.vlg,
        "vlm_mode": settings.vlm_mode,
        "runtime": settings.runtime,
    }
    if job is not None:
        detail.update(history_id=job.history_id, verdict=job.inspection.get("verdict"))
    return detail


def thumbnail(job: InspectionJob, height: int = 160) -> bytes | None:
    """A PNG strip of the explanation overlays (with the inspector's boxes) for the history."""
    tiles = []
    for side in ("ct", "rgb"):
        image = job.images.get(f"{side}_overlay", job.images.get(side))
        if image is not None:
            boxes = (job.inspection.get(side) or {}).get("boxes") or []
            tiles.append(draw_boxes(image, boxes))
    return png_bytes(side_by_side(tiles, height=height)) if tiles else None


def _store() -> Any | None:
    try:
        return resources.history_store()
    except InspectorError as exc:
        log.warning("history disabled: %s", exc)
        return None
