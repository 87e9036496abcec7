"""The bad-input corpus through the Streamlit app (AppTest): each file uploaded as CT and as RGB,
Run pressed. The page never shows an exception: either one clear sentence on the Inspect page, or
a verdict on the Summary page; and a good pair still inspects afterwards in the same session.

A representative subset runs in the fast suite (one case of each kind of failure and of each
kind of accepted file); every case runs under ``-m slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.i18n import t
from tests.app.conftest import ct_png, page_path, rgb_png
from tests.badinput.corpus import cases

CASES = {case.key: case for case in cases()}
#: Fast subset: refused (empty, header bomb, aspect, GIF, newline name), awkward but accepted
#: (all-NaN float TIFF, LZW TIFF, JPEG-2000 DICOM).
FAST = (
    "empty",
    "bomb_png_header",
    "aspect_1_to_40",
    "animated_gif",
    "newline_name_bad",
    "float_all_nan_tiff",
    "tiff_lzw",
    "dicom_jpeg2000",
)
PARAMS = [key if key in FAST else pytest.param(key, marks=pytest.mark.slow) for key in CASES]
VERDICTS = {"normal", "internal_defect", "external_defect", "composite_defect"}


@pytest.fixture(scope="module")
def corpus_bytes() -> dict[str, tuple[str, bytes]]:
    """``{key: (file name, bytes)}`` of every corpus case (built once)."""
    return {case.key: (case.filename, case.build()) for case in cases()}


def _one_sentence(text: str) -> bool:
    return bool(text.strip()) and "\n" not in text and "Traceback" not in text and " object at 0x" not in text


def _run_upload(app, modality: str, name: str, data: bytes) -> None:
    app.run()
    app.file_uploader(key=f"upload_{modality}").set_value((name, data, "application/octet-stream"))
    app.run()
    app.button(key="inspect_run").click().run()


@pytest.mark.parametrize("key", PARAMS)
@pytest.mark.parametrize("modality", ["ct", "rgb"])
def test_app_upload(app, corpus_bytes, key, modality):
    case = CASES[key]
    name, data = corpus_bytes[key]
    app.run()
    allowed = {"." + ext.lower().lstrip(".") for ext in app.file_uploader(key=f"upload_{modality}").allowed_type}
    if Path(name).suffix.lower() not in allowed:
        # the uploader refuses the file by its type in the browser, before any byte is sent
        # (AppTest bypasses that check, so there is nothing for the page to do)
        assert case.expect == "reject", f"{key} ({name}) cannot even be uploaded"
        assert not app.exception
        _good_pair_still_inspects(app)
        return
    _run_upload(app, modality, name, data)
    assert not app.exception, [e.value for e in app.exception]
    page_text = "\n".join(str(e.value) for e in (*app.markdown, *app.error, *app.warning, *app.caption))
    assert "Traceback" not in page_text

    if app.title[0].value == t("inspect.title", "ko"):  # refused: one sentence, still on Inspect
        errors = [e.value for e in app.error]
        assert errors, f"{key} as {modality}: neither a verdict nor an error"
        assert all(_one_sentence(e) for e in errors), errors
        assert case.expect != "accept", f"{key} as {modality} was refused: {errors}"
        assert "current_inspection" not in app.session_state
    else:
        assert app.title[0].value == t("summary.title", "ko"), app.title[0].value
        assert case.expect != "reject", f"{key} as {modality} was accepted"
        inspection = app.session_state["current_inspection"].inspection
        assert inspection["verdict"] in VERDICTS
        assert 0.0 <= inspection["confidence"] <= 1.0
        assert inspection[modality] is not None  # the uploaded side was inspected, not dropped
        if modality == "ct" and case.review:
            assert inspection["needs_review"] is True, inspection["review_reasons"]
        app.switch_page(page_path("inspect"))

    _good_pair_still_inspects(app)


def _good_pair_still_inspects(app) -> None:
    """The same session still inspects a good CT+RGB pair."""
    app.run()
    app.file_uploader(key="upload_ct").set_value(("good_ct.png", ct_png(), "image/png"))
    app.file_uploader(key="upload_rgb").set_value(("good_rgb.png", rgb_png(), "image/png"))
    app.run()
    app.button(key="inspect_run").click().run()
    assert not app.exception
    assert app.title[0].value == t("summary.title", "ko"), [e.value for e in app.error]
    inspection = app.session_state["current_inspection"].inspection
    assert inspection["ct"] is not None and inspection["rgb"] is not None
    assert inspection["verdict"] in VERDICTS
