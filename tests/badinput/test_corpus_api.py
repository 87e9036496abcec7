"""The bad-input corpus through the REST API: ``POST /v1/inspections`` with each file as ``ct`` and
as ``rgb``. Either 200 with a sensible inspection, or a 4xx whose body is exactly
``{"error": one sentence}``; never a 500 and never a trace.
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from inspector.api import create_app  # noqa: E402
from inspector.settings import InspectorSettings  # noqa: E402
from tests.badinput.corpus import SLOW, cases  # noqa: E402
from tests.inspector._checkpoints import default_checkpoint_dir  # noqa: E402

CASES = {case.key: case for case in cases()}
PARAMS = [pytest.param(key, marks=pytest.mark.slow) if key in SLOW else key for key in CASES]
VERDICTS = {"normal", "internal_defect", "external_defect", "composite_defect"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api_corpus")
    app = create_app(
        InspectorSettings(checkpoints_dir=default_checkpoint_dir(folder / "ckpt")),
        history_url=f"sqlite:///{folder / 'history.db'}",
        api_keys=[],
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def corpus_bytes() -> dict[str, tuple[str, bytes]]:
    return {case.key: (case.filename, case.build()) for case in cases()}


@pytest.mark.parametrize("key", PARAMS)
@pytest.mark.parametrize("modality", ["ct", "rgb"])
def test_api_post(client, corpus_bytes, key, modality):
    case = CASES[key]
    name, data = corpus_bytes[key]
    response = client.post(
        "/v1/inspections",
        files={modality: (name, data, "application/octet-stream")},
        data={"battery_type": "cell", "axis": "y"},
    )
    assert response.status_code != 500, response.text
    assert "Traceback" not in response.text
    body = response.json()
    if response.status_code == 200:
        assert case.expect != "reject", f"{key} as {modality} was accepted"
        assert body["verdict"] in VERDICTS and 0.0 <= body["confidence"] <= 1.0
        assert body[modality] is not None and body["id"] >= 1
        if modality == "ct" and case.review:
            assert body["needs_review"] is True, body["review_reasons"]
        return
    assert 400 <= response.status_code < 500, response.text
    assert case.expect != "accept", f"{key} as {modality} was refused: {body}"
    assert set(body) == {"error"}
    message = body["error"]
    assert message.strip() and "\n" not in message and "\r" not in message
    assert " object at 0x" not in message


def test_a_good_pair_still_inspects_after_the_corpus(client):
    from tests.app.conftest import ct_png, rgb_png

    response = client.post(
        "/v1/inspections",
        files={"ct": ("ct.png", ct_png(), "image/png"), "rgb": ("rgb.png", rgb_png(), "image/png")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["ct"] is not None and response.json()["rgb"] is not None
