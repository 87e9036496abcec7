"""Never drop an image silently: an upload shown on the page but missing from the request
(still in flight, or changed while Run was pressed) refuses the run with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from inspector.i18n import t
from inspector.ui import actions
from inspector.ui.state import UISettings
from tests.app.conftest import ct_png, rgb_png


def _pair_shown(app):
    app.run()
    app.file_uploader(key="upload_ct").set_value(("cell_ct.png", ct_png(), "image/png"))
    app.file_uploader(key="upload_rgb").set_value(("cell_rgb.png", rgb_png(), "image/png"))
    app.run()
    assert set(app.session_state["inspect_seen_uploads"]) == {"ct", "rgb"}


def test_rgb_missing_from_the_request_refuses_the_run(app):
    _pair_shown(app)
    # the RGB uploader's value does not arrive with the click (upload in flight / racing change)
    app.file_uploader(key="upload_rgb").set_value(None)
    app.button(key="inspect_run").click().run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert any("RGB" in e and "cell_rgb.png" in e for e in errors), errors
    assert "current_inspection" not in app.session_state  # nothing was inspected
    assert app.session_state["pending_inspection"] is None if "pending_inspection" in app.session_state else True
    assert app.title[0].value == t("inspect.title", "ko")
    # once the page shows what the request holds, Run works (on the CT the operator now gave)
    app.run()
    app.button(key="inspect_run").click().run()
    assert not app.exception and app.title[0].value == t("summary.title", "ko")
    job = app.session_state["current_inspection"]
    assert job.inputs["rgb"] is None and job.inspection["rgb"] is None


def test_a_pair_runs_on_both_images(app):
    _pair_shown(app)
    app.button(key="inspect_run").click().run()
    assert not app.exception
    job = app.session_state["current_inspection"]
    assert job.inspection["ct"] is not None and job.inspection["rgb"] is not None


def test_the_action_refuses_a_request_with_fewer_images_than_named():
    ct = np.zeros((32, 32), np.float32)
    pending = actions.PendingInspection(ct, None, {"ct": "a.png", "rgb": "b\n.png"}, UISettings(), "en")
    with pytest.raises(InputError, match="RGB image 'b\\?.png' is missing") as caught:
        pending.run()
    assert "\n" not in str(caught.value)
