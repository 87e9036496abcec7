"""AppTest of the main flow: upload or sample -> Run -> Summary with verdict and three panels."""

from __future__ import annotations

import time

import pytest

from inspector.history import HistoryStore
from inspector.i18n import t
from tests.app.conftest import ct_png, page_path, rgb_png


def _wait_done(at, timeout: float = 30.0):
    job = at.session_state["current_inspection"]
    deadline = time.monotonic() + timeout
    while not job.done and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.done, "VLM/VLG did not finish"
    at.run()
    return job


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _upload_pair(at):
    at.run()
    at.file_uploader(key="upload_ct").set_value(("cell_ct.png", ct_png(), "image/png"))
    at.file_uploader(key="upload_rgb").set_value(("cell_rgb.png", rgb_png(), "image/png"))
    at.run()
    at.button(key="inspect_run").click().run()


def test_upload_pair_gives_verdict_three_panels_and_history(app, app_env):
    _upload_pair(app)
    assert not app.exception
    assert app.title[0].value == t("summary.title", "ko")
    job = _wait_done(app)
    verdict = job.inspection["verdict"]
    korean = {
        "normal": "정상",
        "internal_defect": "내부불량",
        "external_defect": "외부불량",
        "composite_defect": "복합불량",
    }
    assert korean[verdict] in _markdown(app)
    subheaders = [s.value for s in app.subheader]
    assert any("통합 검사기" in s for s in subheaders)
    assert any("VLM" in s for s in subheaders) and any("VLG" in s for s in subheaders)
    assert job.inspection["vlm"]["backend"] == "findings_writer" and job.inspection["vlm"]["finding"]
    assert job.inspection["vlg"]["backend"] == "model_boxes"
    assert "findings_writer" in _markdown(app)  # the report card names what the VLM said
    assert len(app.get("download_button")) == 3

    records = HistoryStore(f"sqlite:///{app_env['db']}").query()
    assert len(records) == 1
    assert records[0].ct_name == "cell_ct.png" and records[0].thumbnail
    assert records[0].inspection["vlm"]["backend"] == "findings_writer"  # updated once finished


def test_sample_pair_uses_manifest_metadata(app):
    app.run()
    app.radio(key="inspect_source").set_value("sample").run()
    assert app.selectbox(key="inspect_sample").value == "p1"  # the CT+RGB pair is offered first
    assert app.radio(key="inspect_battery_type").value == "module"
    assert app.radio(key="inspect_axis").value == "y"
    app.button(key="inspect_run").click().run()
    assert not app.exception
    job = app.session_state["current_inspection"]
    assert job.inputs == {"ct": "pair_ct.png", "rgb": "pair_rgb.png", "battery_type": "module", "axis": "y"}


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "broken.png"),
        ("notes.png", b"hello, this is text", "notes.png"),
        ("empty.png", b"", "empty.png"),
    ],
)
def test_bad_upload_is_a_message_and_the_app_stays_usable(app, name, data, needle):
    app.run()
    app.file_uploader(key="upload_ct").set_value((name, data, "image/png"))
    app.run()
    app.button(key="inspect_run").click().run()
    assert not app.exception
    assert any(needle in e.value for e in app.error), [e.value for e in app.error]
    assert app.title[0].value == t("inspect.title", "ko")  # still on the Inspect page

    app.file_uploader(key="upload_ct").set_value(("good_ct.png", ct_png(), "image/png"))
    app.run()
    app.button(key="inspect_run").click().run()
    assert not app.exception and app.title[0].value == t("summary.title", "ko")


def test_run_without_images_asks_for_one(app):
    app.run()
    app.button(key="inspect_run").click().run()
    assert any("이미지" in w.value for w in app.warning)
    assert "current_inspection" not in app.session_state


def test_advanced_settings_reach_the_inspection(app):
    app.run()
    sidebar = app.sidebar
    assert sidebar.selectbox(key="settings_ct_model").options == ["ct_tiny (timm)", "ct_other (timm)"]
    # offline backends are selectable, the ones without weights/keys are listed disabled with a reason
    assert "findings_writer" in sidebar.selectbox(key="settings_vlm").options
    unavailable = sidebar.radio(key="settings_vlm_unavailable")
    assert unavailable.disabled and "gemini" in unavailable.options

    sidebar.selectbox(key="settings_ct_model").set_value("ct_other")
    sidebar.selectbox(key="settings_vlm").set_value("none")
    sidebar.selectbox(key="settings_vlg").set_value("none")
    sidebar.slider(key="settings_ct_threshold").set_value(0.95)
    sidebar.number_input(key="settings_rgb_threshold").set_value(1000.0)
    sidebar.radio(key="settings_policy").set_value("and")
    _upload_pair(app)
    assert not app.exception
    job = app.session_state["current_inspection"]
    assert job.done  # nothing left to wait for
    assert job.inspection["vlm"]["backend"] is None and job.inspection["vlg"]["backend"] is None
    assert job.inspection["rgb"]["threshold"] == 1000.0 and not job.inspection["rgb"]["is_defect"]
    assert not job.inspection["ct"]["is_defect"]  # no class of a random model reaches 0.95
    assert job.inspection["verdict"] == "normal"
    assert "사용하지 않음" in _markdown(app)


def test_language_switch_changes_every_label(app):
    app.run()
    app.sidebar.radio(key="lang").set_value("en").run()
    assert app.title[0].value == t("inspect.title", "en")
    assert app.button(key="inspect_run").label == "Run inspection"
    assert app.sidebar.selectbox(key="settings_vlm").label == "VLM backend"
    _upload_pair(app)
    _wait_done(app)
    assert app.title[0].value == t("summary.title", "en")
    assert any("Final report" in s.value for s in app.subheader)


def test_detail_page_shows_finding_charts_and_log(app):
    _upload_pair(app)
    _wait_done(app)
    app.switch_page(page_path("detail")).run()
    assert not app.exception
    assert app.title[0].value == t("detail.title", "ko")
    headers = [h.value for h in app.header]
    assert "추론 로그" in headers and "AI 소견서 (VLM)" in headers
    log_table = app.dataframe[-1].value
    assert {"ct", "rgb", "verdict", "vlm", "vlg"} <= set(log_table.iloc[:, 1])


def test_too_large_upload_is_refused_in_the_page(app, monkeypatch):
    from inspector.ui import actions

    monkeypatch.setattr(actions, "MAX_IMAGE_BYTES", 100)
    app.run()
    app.file_uploader(key="upload_rgb").set_value(("big_rgb.png", rgb_png(), "image/png"))
    app.run()
    app.button(key="inspect_run").click().run()
    assert not app.exception
    assert app.error and "big_rgb.png" in app.error[0].value


def test_sessions_share_models_but_not_results(app_env, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from inspector.pipeline import Inspector
    from inspector.ui import resources
    from tests.app.conftest import REPO

    loads = []
    original = Inspector.load.__func__
    monkeypatch.setattr(
        Inspector, "load", classmethod(lambda cls, *a, **k: loads.append(1) or original(cls, *a, **k))
    )
    resources.shared_inspector.clear()
    entry = tmp_path / "entry.py"
    entry.write_text(f"import runpy\nrunpy.run_path({str(REPO / 'app.py')!r}, run_name='__main__')\n")
    first, second = (AppTest.from_file(str(entry), default_timeout=90) for _ in range(2))
    for at in (first, second):
        at.session_state["saved.settings_auto_run"] = False  # _upload_pair presses Run

    _upload_pair(first)
    second.run()
    assert "current_inspection" in first.session_state
    second.switch_page(page_path("summary")).run()
    assert "current_inspection" not in second.session_state
    assert any("아직 검사 결과가 없습니다" in i.value for i in second.info)

    second.switch_page(page_path("inspect"))
    _upload_pair(second)
    assert first.session_state["current_inspection"] is not second.session_state["current_inspection"]
    assert len(loads) == 1  # one model load for the whole process


@pytest.mark.parametrize(("policy", "verdict"), [("or", "internal_defect"), ("and", "normal")])
def test_and_or_policy_changes_the_verdict(app, policy, verdict):
    app.run()
    app.sidebar.number_input(key="settings_rgb_threshold").set_value(1000.0)  # RGB says normal
    app.sidebar.radio(key="settings_policy").set_value(policy)
    _upload_pair(app)
    inspection = app.session_state["current_inspection"].inspection
    assert inspection["ct"]["is_defect"] and not inspection["rgb"]["is_defect"]
    assert inspection["verdict"] == verdict


def test_a_blank_ct_upload_shows_the_review_flag(app):
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(buffer, format="PNG")
    app.run()
    app.file_uploader(key="upload_ct").set_value(("blank.png", buffer.getvalue(), "image/png"))
    app.run()
    app.button(key="inspect_run").click().run()
    assert not app.exception
    job = _wait_done(app)
    assert job.inspection["needs_review"] is True and "ct_blank_image" in job.inspection["review_reasons"]
    warnings = "\n".join(w.value for w in app.warning)
    assert "검토 필요 / needs review" in warnings and t("review.reason.ct_blank_image", "ko") in warnings


def test_the_review_banner_shows_exactly_when_the_inspection_needs_review(app):
    _upload_pair(app)
    job = _wait_done(app)
    shown = any("needs review" in w.value for w in app.warning)
    assert shown == job.inspection["needs_review"]
