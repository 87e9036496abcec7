"""The inspection starts by itself once both images have arrived (default on), each upload is
decoded once, and the runtime chosen in the advanced settings reaches the inspection."""

from __future__ import annotations

from inspector.history import HistoryStore
from inspector.i18n import t
from inspector.ui import actions
from inspector.ui.state import UISettings
from tests.app.conftest import ct_png, rgb_png


def _upload(at, *sides: str) -> None:
    for side in sides:
        data = ct_png() if side == "ct" else rgb_png()
        at.file_uploader(key=f"upload_{side}").set_value((f"cell_{side}.png", data, "image/png"))
    at.run()


def test_auto_run_is_the_default():
    assert UISettings().auto_run is True


def test_both_uploads_start_the_inspection_without_run(auto_app, app_env, monkeypatch):
    decoded = []
    real = actions.decode
    monkeypatch.setattr(actions, "decode", lambda source, modality, name=None: decoded.append(modality) or real(source, modality, name))
    auto_app.run()
    assert auto_app.sidebar.toggle(key="settings_auto_run").value is True
    _upload(auto_app, "ct")
    assert auto_app.title[0].value == t("inspect.title", "ko")  # one image: wait for the other (or Run)
    assert "current_inspection" not in auto_app.session_state
    _upload(auto_app, "rgb")
    assert not auto_app.exception
    assert auto_app.title[0].value == t("summary.title", "ko")  # started without pressing Run
    job = auto_app.session_state["current_inspection"]
    assert job.inputs["ct"] == "cell_ct.png" and job.inputs["rgb"] == "cell_rgb.png"
    assert job.inspection["ct"] is not None and job.inspection["rgb"] is not None
    assert sorted(decoded) == ["ct", "rgb"]  # each upload decoded once: preview and inspection share it
    assert len(HistoryStore(f"sqlite:///{app_env['db']}").query()) == 1


def test_auto_run_off_waits_for_run(auto_app):
    auto_app.run()
    auto_app.sidebar.toggle(key="settings_auto_run").set_value(False).run()
    _upload(auto_app, "ct", "rgb")
    assert auto_app.title[0].value == t("inspect.title", "ko")
    assert "current_inspection" not in auto_app.session_state
    auto_app.button(key="inspect_run").click().run()
    assert auto_app.title[0].value == t("summary.title", "ko")


def test_a_bad_upload_is_not_started(auto_app):
    auto_app.run()
    auto_app.file_uploader(key="upload_ct").set_value(("broken.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png"))
    _upload(auto_app, "rgb")
    assert not auto_app.exception
    assert auto_app.title[0].value == t("inspect.title", "ko")
    assert any("broken.png" in e.value for e in auto_app.error)
    assert "current_inspection" not in auto_app.session_state


def test_runtime_setting_reaches_the_inspection(app, app_env):
    app.run()
    radio = app.sidebar.radio(key="settings_runtime")
    assert list(radio.options) == ["PyTorch", "ONNX Runtime", "ONNX int8"]  # labelled in the session's language
    radio.set_value("onnx").run()
    _upload(app, "ct", "rgb")
    app.button(key="inspect_run").click().run()
    assert not app.exception
    job = app.session_state["current_inspection"]
    assert job.inspection["verdict"]
    (row,) = HistoryStore(f"sqlite:///{app_env['db']}").audit_log()
    assert row.detail["runtime"] == "onnx"
