"""The inspection job: verdict at once, VLM/VLG in the background with timeouts, reopening."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import numpy as np

from inspector.drawing import png_bytes
from inspector.history import HistoryRecord
from inspector.pipeline import Evidence, InspectionRequest
from inspector.settings import InspectorSettings
from inspector.ui.runner import InspectionJob, start_inspection
from inspector.verdict import Verdict
from models.vlm.base import Availability


class _Finding:
    def to_dict(self):
        return {"summary": "ok", "severity": "low", "defect_detected": False, "boxes": []}


class _Backend:
    def __init__(self, delay: float, fail: bool = False):
        self.delay, self.fail = delay, fail
        self.release = threading.Event()

    def availability(self):
        return Availability(True)

    def _wait(self):
        self.release.wait(self.delay)
        if self.fail:
            raise RuntimeError("model exploded")

    def describe(self, request):
        self._wait()
        return _Finding()

    def detect(self, request):
        self._wait()
        return [{"label": "void", "score": 0.5, "box": [1, 2, 3, 4], "modality": "ct"}]


class _Inspector:
    """Stands in for a loaded Inspector: a fixed verdict and two stub backends."""

    def __init__(self, vlm: _Backend, vlg: _Backend):
        self.settings = InspectorSettings(vlm_timeout_s=5, vlg_timeout_s=5)
        self.backends = {"vlm": vlm, "vlg": vlg}
        self.analysed = 0

    def analyse(self, ct=None, rgb=None, battery_type=None, axis=None, thresholds=None):
        self.analysed += 1
        return Evidence(Verdict("normal", 0.9), None, None, {"analyse": 3.0}, ct_image=ct)

    def backend(self, kind, name):
        return self.backends[kind]


def _request():
    return InspectionRequest(ct=np.zeros((8, 8), np.float32), battery_type="cell", axis="x")


def test_verdict_is_returned_while_backends_still_run():
    vlm, vlg = _Backend(delay=10), _Backend(delay=10)
    inspector = _Inspector(vlm, vlg)
    finished = threading.Event()
    verdicts = []
    start = time.perf_counter()
    job = start_inspection(
        inspector,
        _request(),
        vlm="stub",
        vlg="stub",
        inputs={"ct": "a.png"},
        on_verdict=lambda j: verdicts.append(j.inspection["verdict"]),
        on_complete=lambda j: finished.set(),
    )
    assert time.perf_counter() - start < 2.0
    assert verdicts == ["normal"] and job.inspection["verdict"] == "normal"
    assert job.is_pending("vlm") and job.is_pending("vlg") and not job.done
    assert job.snapshot()["vlm"] is None and job.inspection["inputs"] == {"ct": "a.png"}

    vlm.release.set()
    vlg.release.set()
    assert finished.wait(5)
    result = job.snapshot()
    assert job.done
    assert result["vlm"]["finding"]["summary"] == "ok" and result["vlm"]["error"] is None
    assert result["vlg"]["boxes"][0]["label"] == "void"
    assert {"vlm", "vlg"} <= set(result["timings_ms"])
    assert inspector.analysed == 1  # the VLM/VLG run reused the evidence
    assert [e.stage for e in job.log][-2:] in (["vlm", "vlg"], ["vlg", "vlm"])


def test_timeout_and_failure_become_panel_errors():
    vlm, vlg = _Backend(delay=30), _Backend(delay=0, fail=True)
    finished = threading.Event()
    job = start_inspection(
        _Inspector(vlm, vlg),
        _request(),
        vlm="stub",
        vlg="stub",
        timeouts={"vlm": 0.3, "vlg": 5},
        on_complete=lambda j: finished.set(),
    )
    assert finished.wait(5)
    result = job.snapshot()
    assert "timed out" in result["vlm"]["error"]
    assert "model exploded" in result["vlg"]["error"]
    assert result["verdict"] == "normal"  # never changed by the backends
    vlm.release.set()


def test_no_backends_means_done_at_once():
    done = []
    job = start_inspection(
        _Inspector(_Backend(0), _Backend(0)), _request(), vlm=None, vlg=None, on_complete=done.append
    )
    assert job.done and done == [job]
    assert job.inspection["vlm"]["backend"] is None and job.inspection["vlg"]["boxes"] is None


def test_reopen_from_history_record():
    record = HistoryRecord(
        id=7,
        created=datetime(2026, 1, 2, 3, 4, 5),
        verdict="normal",
        confidence=0.8,
        ct_name=None,
        rgb_name="x.png",
        ct_label=None,
        rgb_score=0.1,
        inspection={"verdict": "normal", "confidence": 0.8, "inputs": {"rgb": "x.png"}},
        thumbnail=png_bytes(np.zeros((4, 6, 3), np.uint8)),
    )
    job = InspectionJob.from_record(record)
    assert job.done and job.history_id == 7
    assert job.images["thumbnail"].shape == (4, 6, 3)
    assert job.inputs == {"rgb": "x.png"}
    job.inspection["verdict"] = "changed"
    assert record.inspection["verdict"] == "normal"  # a copy, not the stored dict


def test_settled_only_after_the_last_full_run(monkeypatch):
    from types import SimpleNamespace

    from inspector.ui import live

    session: dict = {}
    monkeypatch.setattr(live.st, "session_state", session)
    job = SimpleNamespace(done=False, key="job-1")
    assert not live.settled(job, "summary")  # still running
    job.done = True
    session["_polling_summary"] = "job-1"  # the fragment's last run: one full run still to come
    assert not live.settled(job, "summary")
    del session["_polling_summary"]  # the final full run
    assert live.settled(job, "summary")
    session["_polling_summary"] = "another-job"  # a flag left by another inspection does not hold it
    assert live.settled(job, "summary")
