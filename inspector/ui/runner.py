"""One inspection as the app runs it: the verdict at once, the VLM and VLG later.

:func:`start_inspection` runs the fast part (models, explanations, verdict) in the calling
thread and returns an :class:`InspectionJob` right away; the VLM and VLG then run through
:func:`inspector.pipeline.run_inspection` (parallel threads, own timeouts) in a background
thread that fills the job in as each finishes. The page polls the job; it never waits for it.

No Streamlit here: the job is plain, thread-safe data, so it is testable on its own.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from inspector.pipeline import Evidence, InspectionRequest, Inspector, run_inspection
from inspector.report import format_percent

log = logging.getLogger(__name__)

BACKEND_KINDS: tuple[str, ...] = ("vlm", "vlg")


@dataclass
class LogEntry:
    """One line of the inference log."""

    seconds: float
    stage: str
    message: str
    ms: float | None = None


@dataclass
class InspectionJob:
    """One session's inspection: the JSON (filled in as results arrive), images and a log.

    Attributes:
        inspection: the inspection JSON; ``vlm``/``vlg`` are ``None`` while they run.
        images: display arrays: ``ct``, ``rgb`` (inputs), ``ct_overlay``, ``rgb_overlay``
            (explanations), or ``thumbnail`` for an inspection reopened from the history.
        inputs: file names and CT metadata as given.
        pending: backends still running.
        history_id: id in the history store, once stored.
    """

    inspection: dict[str, Any]
    images: dict[str, np.ndarray] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    history_id: int | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    log: list[LogEntry] = field(default_factory=list)
    _start: float = field(default_factory=time.perf_counter, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_evidence(cls, evidence: Evidence, inputs: dict[str, Any]) -> InspectionJob:
        """A job whose inspector part is done: verdict, CT and RGB results, overlays."""
        inspection = evidence.to_dict()
        inspection["vlm"] = inspection["vlg"] = None
        inspection["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        inspection["inputs"] = dict(inputs)
        images = {
            "ct": evidence.ct_image,
            "rgb": evidence.rgb_image,
            "ct_overlay": evidence.ct_overlay,
            "rgb_overlay": evidence.rgb_overlay,
        }
        job = cls(inspection, {k: v for k, v in images.items() if v is not None}, dict(inputs))
        for stage in ("ct", "rgb"):
            if stage in inspection["timings_ms"]:
                job.add_log(stage, f"{stage.upper()} model done", inspection["timings_ms"][stage])
        job.add_log(
            "verdict",
            f"verdict: {inspection['verdict']} ({format_percent(inspection['confidence'])})",
            inspection["timings_ms"].get("analyse"),
        )
        return job

    @classmethod
    def from_record(cls, record: Any) -> InspectionJob:
        """A finished job reopened from a :class:`inspector.history.HistoryRecord`."""
        images = {}
        if record.thumbnail:
            from inspector.drawing import decode_png

            images["thumbnail"] = decode_png(record.thumbnail)
        inspection = copy.deepcopy(record.inspection)
        job = cls(inspection, images, dict(inspection.get("inputs") or {}), history_id=record.id)
        job.add_log(
            "history", f"reopened inspection #{record.id} from {record.created:%Y-%m-%d %H:%M:%S} UTC"
        )
        return job

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the inspection JSON as it is now."""
        with self._lock:
            return copy.deepcopy(self.inspection)

    def is_pending(self, kind: str) -> bool:
        """Whether the ``vlm`` or ``vlg`` is still running."""
        with self._lock:
            return kind in self.pending

    @property
    def done(self) -> bool:
        """Whether every backend has answered (or timed out)."""
        with self._lock:
            return not self.pending

    def add_log(self, stage: str, message: str, ms: float | None = None) -> None:
        """Append a line to the inference log."""
        with self._lock:
            self.log.append(LogEntry(time.perf_counter() - self._start, stage, message, ms))

    def update(self, stage: str, result: dict[str, Any]) -> None:
        """``run_inspection``'s ``on_update``: take the ``vlm``/``vlg`` section when it lands."""
        if stage not in BACKEND_KINDS:
            return
        section = result.get(stage) or {}
        with self._lock:
            self.inspection[stage] = copy.deepcopy(section)
            if section.get("latency_ms") is not None:
                self.inspection["timings_ms"][stage] = section["latency_ms"]
            self.pending.discard(stage)
        backend = section.get("backend") or stage
        message = f"{backend}: {section['error']}" if section.get("error") else f"{backend} done"
        self.add_log(stage, message, section.get("latency_ms"))


class _AnalysedInspector:
    """An :class:`Inspector` whose ``analyse`` returns evidence that was already computed.

    Lets :func:`run_inspection` run only the VLM/VLG part for a verdict the page has shown.
    """

    def __init__(self, inspector: Inspector, evidence: Evidence) -> None:
        self._inspector = inspector
        self._evidence = evidence
        self.settings = inspector.settings

    def analyse(self, *args: Any, **kwargs: Any) -> Evidence:
        return self._evidence

    def backend(self, kind: str, name: str) -> Any:
        return self._inspector.backend(kind, name)


def start_inspection(
    inspector: Inspector,
    request: InspectionRequest,
    *,
    vlm: str | None,
    vlg: str | None,
    timeouts: dict[str, float] | None = None,
    vlm_mode: str | None = None,
    inputs: dict[str, Any] | None = None,
    lock: threading.Lock | None = None,
    on_verdict: Callable[[InspectionJob], None] | None = None,
    on_complete: Callable[[InspectionJob], None] | None = None,
) -> InspectionJob:
    """Run the inspector now, start the VLM/VLG in the background, return the job.

    Args:
        inspector: the loaded (shared) inspector.
        request: images, CT metadata and the finding's language.
        vlm: VLM backend name, or ``None`` to skip it.
        vlg: VLG backend name, or ``None`` to skip it.
        timeouts: ``{"vlm": s, "vlg": s}``.
        vlm_mode: ``"blind"`` or ``"evidence"`` (default: the inspector's settings).
        inputs: file names and metadata to keep with the inspection.
        lock: held around the models' forward pass (serialises sessions sharing them).
        on_verdict: called with the job once the verdict is known, before the VLM/VLG start.
        on_complete: called from the background thread once every backend has answered.

    Raises:
        InputError, CheckpointError: from :meth:`Inspector.analyse`.
    """
    inputs = dict(inputs or {})
    start = time.perf_counter()
    with lock or threading.Lock():
        evidence = inspector.analyse(
            request.ct, request.rgb, request.battery_type, request.axis, thresholds=request.thresholds
        )
    job = InspectionJob.from_evidence(evidence, inputs)
    log.info(
        "verdict %s in %.0f ms (%s)",
        job.inspection["verdict"],
        (time.perf_counter() - start) * 1000,
        ", ".join(f"{k} {v:.0f} ms" for k, v in job.inspection["timings_ms"].items()),
    )
    names = {"vlm": vlm, "vlg": vlg}
    job.pending = {k for k, name in names.items() if name}

    def work() -> None:
        try:
            run_inspection(
                _AnalysedInspector(inspector, evidence),  # type: ignore[arg-type]
                request,
                vlm=vlm,
                vlg=vlg,
                timeouts=timeouts,
                on_update=job.update,
                vlm_mode=vlm_mode,
            )
        except Exception as exc:  # keep the page alive; say what happened in each panel
            log.exception("VLM/VLG run failed")
            for kind in list(job.pending):
                job.update(kind, {kind: {"backend": names[kind], "available": False, "error": str(exc)}})
        finally:
            with job._lock:
                job.pending.clear()
            if on_complete is not None:
                try:
                    on_complete(job)
                except Exception:
                    log.exception("on_complete failed")

    for kind, name in names.items():
        if name is None:
            payload = "finding" if kind == "vlm" else "boxes"
            job.inspection[kind] = {
                "backend": None,
                "available": False,
                payload: None,
                "error": None,
                "latency_ms": None,
            }
    if on_verdict is not None:
        on_verdict(job)
    if job.pending:
        threading.Thread(target=work, name=f"inspection-{job.key}", daemon=True).start()
    elif on_complete is not None:
        on_complete(job)
    return job
