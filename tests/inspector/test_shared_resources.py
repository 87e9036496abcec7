"""Shared resources: thresholds per request (never per loaded model), the bounded backend pool."""

from __future__ import annotations

import threading
import time

import pytest

from core.errors import ConfigError, InputError
from inspector.executor import BackendPool
from inspector.pipeline import InspectionRequest, Inspector, InspectorSettings, Thresholds, run_inspection
from models.vlm import Availability, VLMBackend
from models.vlm.base import BackendError, FindingRequest
from models.vlm.registry import _VLMS
from tests.inspector._checkpoints import ct_image, rgb_image, save_ct, save_rgb

CT_DEFECT = ct_image(64, blob=(8, 40, 16, 12))
RGB_DEFECT = rgb_image(64, square=(40, 8, 12, 10))


@pytest.fixture(scope="module")
def inspector(tmp_path_factory) -> Inspector:
    directory = tmp_path_factory.mktemp("ckpt")
    save_ct(directory, default=True)
    save_rgb(directory, default=True)
    return Inspector.load(InspectorSettings(checkpoints_dir=directory))


def test_thresholds_are_per_call_and_leave_the_shared_models_untouched(inspector):
    ct_before = inspector.predictors["ct"].threshold
    rgb_before = inspector.predictors["rgb"].threshold
    default = inspector.analyse(ct=CT_DEFECT, rgb=RGB_DEFECT).to_dict()
    assert default["verdict"] == "composite_defect"
    lenient = inspector.analyse(ct=CT_DEFECT, rgb=RGB_DEFECT, thresholds=Thresholds(ct=0.99, rgb=10.0)).to_dict()
    assert lenient["verdict"] == "normal"
    evidence = inspector.analyse(ct=CT_DEFECT, rgb=RGB_DEFECT, thresholds=Thresholds(ct=0.99, rgb=10.0))
    assert evidence.ct.threshold == 0.99 and evidence.rgb.threshold == 10.0
    strict_and = inspector.analyse(ct=CT_DEFECT, rgb=rgb_image(64), thresholds=Thresholds(policy="and"))
    assert strict_and.verdict.verdict == "normal"
    # nothing of those calls stayed behind
    assert inspector.predictors["ct"].threshold == ct_before
    assert inspector.predictors["rgb"].threshold == rgb_before
    assert inspector.analyse(ct=CT_DEFECT, rgb=RGB_DEFECT).to_dict()["verdict"] == "composite_defect"


def test_concurrent_requests_with_different_thresholds_do_not_mix(inspector):
    results: dict[str, list[str]] = {"strict": [], "lenient": []}
    chosen = {"strict": Thresholds(), "lenient": Thresholds(ct=0.99, rgb=10.0)}

    def work(name: str) -> None:
        for _ in range(4):
            results[name].append(inspector.analyse(ct=CT_DEFECT, rgb=RGB_DEFECT, thresholds=chosen[name]).verdict.verdict)

    threads = [threading.Thread(target=work, args=(n,)) for n in chosen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results["strict"]) == {"composite_defect"} and set(results["lenient"]) == {"normal"}


def test_bad_thresholds_are_refused_in_one_sentence(inspector):
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        Thresholds(ct=1.5)
    with pytest.raises(ConfigError, match="finite"):
        Thresholds(rgb=float("nan"))
    with pytest.raises(ConfigError, match="policy"):
        Thresholds(policy="xor")
    with pytest.raises(InputError, match="between 0 and 1"):
        inspector.predictors["ct"].predict(CT_DEFECT, battery_type="cell", axis="x", threshold=0.0)


def test_the_app_caches_models_by_checkpoint_only(monkeypatch):
    from inspector.ui import actions, resources
    from inspector.ui.state import UISettings

    calls = []
    monkeypatch.setattr(resources, "shared_inspector", lambda *args: calls.append(args))
    actions.load_shared(UISettings(ct_threshold=0.2, rgb_threshold=1.0, policy="or"))
    actions.load_shared(UISettings(ct_threshold=0.9, rgb_threshold=9.0, policy="and"))
    assert calls[0] == calls[1]
    actions.load_shared(UISettings(runtime="onnx"))
    actions.load_shared(UISettings(runtime="torch"))
    assert calls[2] != calls[3]  # the runtime is part of the key: each has its own loaded models
    assert (calls[2][-1], calls[3][-1]) == ("onnx", "torch")
    assert actions.thresholds(UISettings(ct_threshold=0.9, policy="and")) == Thresholds(ct=0.9, policy="and")


class _Gate(VLMBackend):
    """Blocks until its request is cancelled (or 5 s), recording what it saw."""

    name = "test_gate"
    started: list[FindingRequest] = []

    def _check_availability(self):
        return Availability(True)

    def _generate(self, request):
        type(self).started.append(request)
        request.cancel.wait(5)
        raise BackendError("stopped")


def test_a_timed_out_backend_is_cancelled_and_a_queued_one_never_runs(inspector, monkeypatch):
    monkeypatch.setitem(_VLMS, "test_gate", _Gate)
    _Gate.started = []
    pool = BackendPool(workers=1)
    request = InspectionRequest(ct=CT_DEFECT, battery_type="cell", axis="x")
    first = {}
    runner = threading.Thread(
        target=lambda: first.update(run_inspection(inspector, request, vlm="test_gate", vlg="none",
                                                   timeouts={"vlm": 0.5}, pool=pool))
    )
    runner.start()
    while not _Gate.started:
        time.sleep(0.01)
    # the only slot is busy: this one waits in the queue, times out there and is dropped
    second = run_inspection(inspector, request, vlm="test_gate", vlg="none", timeouts={"vlm": 0.2}, pool=pool)
    assert "waiting for a free backend slot" in second["vlm"]["error"]
    runner.join(5)
    assert "timed out after 0.5 s" in first["vlm"]["error"]
    assert _Gate.started[0].cancelled  # the running backend was told to stop ...
    deadline = time.monotonic() + 2
    while pool.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.running == 0  # ... and gave its slot back
    assert len(_Gate.started) == 1  # the cancelled queued job never ran


def test_pool_runs_at_most_its_size_at_once():
    pool = BackendPool(workers=2)
    peak, now, lock = [0], [0], threading.Lock()

    def job():
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1

    futures = [pool.submit(job) for _ in range(8)]
    for future in futures:
        future.result(5)
    assert peak[0] == 2


def test_qwen_waits_for_the_model_with_a_timeout_and_honours_cancel():
    from models.vlm.qwen3_vl import acquire_model

    lock = threading.Lock()
    lock.acquire()
    request = FindingRequest(ct_image=ct_image(16), cancel=threading.Event())
    start = time.monotonic()
    with pytest.raises(BackendError, match="busy"):
        acquire_model(lock, 0.3, request)
    assert time.monotonic() - start < 2
    request.cancel.set()
    with pytest.raises(BackendError, match="cancelled"):
        acquire_model(lock, 30, request)
    lock.release()
    request.cancel.clear()
    acquire_model(lock, 1, request)
    assert lock.locked()
