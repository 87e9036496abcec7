"""The REST API end to end with tiny checkpoints: contract JSON, history, errors, keys, pool."""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import json
import logging
import threading

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

import inspector.api.app as api_module  # noqa: E402
from inspector.api import create_app  # noqa: E402
from inspector.api.audit import ANONYMOUS, UNAUTHENTICATED, FailureLimiter, audit_salt, key_id, sanitise_name  # noqa: E402
from inspector.settings import InspectorSettings  # noqa: E402
from tests.inspector._checkpoints import ct_image, default_checkpoint_dir, rgb_image  # noqa: E402

CONTRACT_KEYS = {"verdict", "confidence", "needs_review", "review_reasons", "ct", "rgb", "vlm", "vlg", "timings_ms"}
KEY = "test-key-5f2b9c1e"


def png(image: np.ndarray) -> bytes:
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


CT_PNG = png(ct_image(64, blob=(20, 20, 12, 12)))
RGB_PNG = png(rgb_image(64))


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    return default_checkpoint_dir(tmp_path_factory.mktemp("api_ckpt"))


@pytest.fixture
def make_client(ckpt_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("INSPECTOR_API_KEYS", raising=False)
    clients = []

    def make(**kwargs) -> TestClient:
        kwargs.setdefault("history_url", f"sqlite:///{tmp_path / 'history.db'}")
        app = create_app(InspectorSettings(checkpoints_dir=ckpt_dir), **kwargs)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def post(client: TestClient, files: dict | None = None, data: dict | None = None, **kwargs):
    return client.post("/v1/inspections", files=files, data=data, **kwargs)


def both():
    return {"ct": ("ct.png", CT_PNG, "image/png"), "rgb": ("rgb.png", RGB_PNG, "image/png")}


def assert_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


def test_health_names_the_loaded_models(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["models"]["ct"] == {"checkpoint": "ct_test", "architecture": "test_blob_ct", "task": "ct"}
    assert body["models"]["rgb"]["task"] == "rgb"
    assert body["models"]["rgb"]["architecture"] == "conv_ae_compact"


def test_post_returns_the_contract_and_get_returns_it_stored(client):
    response = post(client, both(), {"battery_type": "cell", "axis": "x", "lang": "en"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert CONTRACT_KEYS | {"id"} <= set(body)
    assert body["verdict"] == "internal_defect"  # the bright blob is porosity to test_blob_ct
    assert body["ct"]["label"] == "cell_porosity"
    assert body["vlm"]["backend"] is None and body["vlg"]["backend"] is None  # "none": not run
    assert isinstance(body["review_reasons"], list) and isinstance(body["needs_review"], bool)
    stored = client.get(f"/v1/inspections/{body['id']}")
    assert stored.status_code == 200
    assert stored.json() == body
    assert client.app.state.store.get(body["id"]).ct_name == "ct.png"


def test_rgb_only_post_works(client):
    response = post(client, {"rgb": ("rgb.png", RGB_PNG, "image/png")})
    assert response.status_code == 200, response.text
    assert response.json()["ct"] is None and response.json()["verdict"] == "normal"


def test_unknown_id_is_404(client):
    assert "99999" in assert_error(client.get("/v1/inspections/99999"), 404)


def test_corrupt_image_is_400(client):
    corrupt = CT_PNG[:40] + b"\0" * 60  # a PNG header, then nothing decodable
    error = assert_error(post(client, {"ct": ("ct.png", corrupt, "image/png")}), 400)
    assert "ct.png" in error


def test_bad_metadata_is_400(client):
    assert "battery_type" in assert_error(post(client, both(), {"battery_type": "truck"}), 400)


def test_oversize_upload_is_413(make_client):
    client = make_client(max_bytes=len(CT_PNG) - 1)
    assert "limit" in assert_error(post(client, {"ct": ("ct.png", CT_PNG, "image/png")}), 413)
    # Content-Length beyond two images + form slack: refused before the body is parsed
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * len(CT_PNG) + 70_000)
    assert "the upload is larger" in assert_error(post(client, {"ct": ("ct.png", big, "image/png")}), 413)


def test_text_file_is_415(client):
    error = assert_error(post(client, {"ct": ("notes.txt", b"just some text\n", "text/plain")}), 415)
    assert "supported" in error


def test_no_files_is_422(client):
    assert_error(post(client, data={"battery_type": "cell"}), 422)
    assert_error(client.post("/v1/inspections"), 422)


def test_unexpected_exception_is_500_without_details(client, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/x")

    monkeypatch.setattr(api_module, "run_inspection", boom)
    with caplog.at_level(logging.ERROR, logger="inspector.api.app"):
        assert assert_error(post(client, both()), 500) == "internal error"
    assert "secret internals" in caplog.text  # logged server-side only


def test_api_keys_guard_v1(make_client):
    client = make_client(api_keys=[KEY, "other-key-123456"])
    assert client.get("/health").status_code == 200  # health stays open
    assert_error(post(client, both()), 401)
    assert_error(post(client, both(), headers={"X-API-Key": "wrong-key-000000"}), 401)
    assert_error(client.get("/v1/inspections/1", headers={"X-API-Key": "wrong"}), 401)
    response = post(client, both(), headers={"X-API-Key": KEY})
    assert response.status_code == 200, response.text
    stored = client.get(f"/v1/inspections/{response.json()['id']}", headers={"X-API-Key": "other-key-123456"})
    assert stored.status_code == 200


def test_refused_keys_are_audited_without_the_key_and_bounded(make_client):
    client = make_client(api_keys=[KEY])
    assert_error(post(client, both(), headers={"X-API-Key": "wrong-key-000000"}), 401)
    assert_error(post(client, both()), 401)
    rows = client.app.state.store.audit_log()
    assert [(r.user, r.action) for r in rows] == [(UNAUTHENTICATED, "api_auth_failed")] * 2
    newest, oldest = rows
    assert (oldest.detail["key_given"], newest.detail["key_given"]) == (True, False)
    assert oldest.detail["path"] == "/v1/inspections" and oldest.detail["method"] == "POST"
    assert oldest.detail["status"] == 401 and "wrong-key" not in json.dumps(oldest.detail)


def test_failure_limiter_bounds_rows_and_counts_the_rest():
    now = [0.0]
    limiter = FailureLimiter(per_window=2, window_s=10.0, clock=lambda: now[0])
    assert [limiter.admit() for _ in range(5)] == [0, 0, None, None, None]
    now[0] = 10.5  # a new window: the next row reports the three refusals that were not written
    assert limiter.admit() == 3 and limiter.admit() == 0 and limiter.admit() is None


def test_api_keys_from_environment(make_client, monkeypatch):
    client = make_client()  # fixture cleared the variable: no keys, open
    assert post(client, both()).status_code == 200
    monkeypatch.setenv("INSPECTOR_API_KEYS", f" {KEY} , second-key-999 ")
    client = make_client()
    assert_error(post(client, both()), 401)
    assert post(client, both(), headers={"X-API-Key": "second-key-999"}).status_code == 200


def test_key_never_logged(make_client, caplog, monkeypatch, tmp_path):
    client = make_client(api_keys=[KEY])

    def boom(*args, **kwargs):
        raise RuntimeError("failure")

    with caplog.at_level(logging.DEBUG):
        assert post(client, both(), headers={"X-API-Key": KEY}).status_code == 200
        post(client, both(), headers={"X-API-Key": KEY + "x"})
        assert_error(post(client, {"ct": ("notes.txt", b"text", "text/plain")}, headers={"X-API-Key": KEY}), 415)
        monkeypatch.setattr(api_module, "run_inspection", boom)
        post(client, both(), headers={"X-API-Key": KEY})
    assert caplog.records  # something was logged (the internal error at least)
    assert KEY not in caplog.text
    rows = client.app.state.store.audit_log()
    assert len(rows) == 4  # the 200, the 401 (a row of its own), the 415 and the 500
    assert [r.action for r in rows].count("api_auth_failed") == 1
    assert KEY not in json.dumps([(r.user, r.detail) for r in rows])
    assert KEY.encode() not in (tmp_path / "history.db").read_bytes()  # nowhere in the database


def test_post_writes_an_audit_row(make_client):
    client = make_client(api_keys=[KEY])
    files = {
        "ct": ("../../scans/line 3\\ct\nslice.png", CT_PNG, "image/png"),
        "rgb": ("rgb.png", RGB_PNG, "image/png"),
    }
    response = post(client, files, {"battery_type": "cell", "axis": "x"}, headers={"X-API-Key": KEY})
    assert response.status_code == 200, response.text
    body = response.json()
    (row,) = client.app.state.store.audit_log()
    who = key_id(KEY, audit_salt([KEY]))
    assert row.user == who and who.startswith("api:") and len(who) == len("api:") + 12
    assert row.action == "api_inspect"
    detail = row.detail
    assert detail["uploads"]["ct"] == {
        "name": "ct%0Aslice.png",  # no directories (httpx percent-encodes the newline)
        "bytes": len(CT_PNG),
        "sha256": hashlib.sha256(CT_PNG).hexdigest(),
    }
    assert detail["uploads"]["rgb"]["sha256"] == hashlib.sha256(RGB_PNG).hexdigest()
    assert detail["models"]["ct"] == "ct_test" and detail["models"]["rgb"]
    assert detail["thresholds"]["policy"] == "or"
    assert detail["thresholds"]["rgb"] == pytest.approx(body["rgb"]["threshold"])
    assert 0 < detail["thresholds"]["ct"] < 1
    assert detail["runtime"] in ("torch", "onnx")
    assert (detail["status"], detail["history_id"]) == (200, body["id"])
    assert (detail["verdict"], detail["needs_review"]) == (body["verdict"], body["needs_review"])
    assert (detail["battery_type"], detail["axis"]) == ("cell", "x")
    assert client.app.state.store.get(body["id"]).user == who  # the history row names the same caller


def test_audit_names_are_sanitised():
    assert sanitise_name("C:\\scans\\..\\ct\nslice\x1b[31m.png", "ct") == "ct?slice?[31m.png"
    assert sanitise_name("../../", "rgb") == "rgb" and sanitise_name(None, "ct") == "ct"
    assert len(sanitise_name("x" * 500 + ".png", "ct")) == 120


def test_refused_request_is_audited(client):
    assert_error(post(client, {"ct": ("notes.txt", b"just some text\n", "text/plain")}), 415)
    (row,) = client.app.state.store.audit_log()
    assert row.user == ANONYMOUS
    assert row.detail["status"] == 415 and "supported" in row.detail["error"]
    assert row.detail["uploads"]["ct"]["name"] == "notes.txt" and row.detail["verdict"] is None


def test_key_id_depends_on_the_salt(monkeypatch):
    monkeypatch.delenv("INSPECTOR_AUDIT_SALT", raising=False)
    assert key_id(KEY, audit_salt([KEY])) == key_id(KEY, audit_salt([KEY]))  # stable across restarts
    assert key_id(KEY, audit_salt([KEY])) != key_id(KEY, audit_salt([KEY, "another-key-1"]))
    monkeypatch.setenv("INSPECTOR_AUDIT_SALT", "plant-7")
    assert audit_salt([KEY]) == b"plant-7" and audit_salt([KEY], "x") == b"x"
    assert KEY not in key_id(KEY, b"plant-7")


def asgi_post(app, head: bytes, filler: int, chunk: int, headers: list) -> tuple[int, dict, int]:
    """POST ``head`` + ``filler`` chunks to ``app`` as raw ASGI messages; (status, JSON, bytes pulled).

    The server pulls the body one message at a time, so ``pulled`` is what it actually read.
    """
    chunks = itertools.chain([head], itertools.repeat(b"\0" * chunk, filler), [b"\r\n--B--\r\n"])
    pulled = 0
    status: dict = {}
    body = bytearray()

    async def receive():
        nonlocal pulled
        part = next(chunks, None)
        if part is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(part)
        return {"type": "http.request", "body": part, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            status["code"] = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v1/inspections", "raw_path": b"/v1/inspections",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000), "state": {},
        "headers": [(b"content-type", b"multipart/form-data; boundary=B"), *headers],
    }
    asyncio.run(app(scope, receive, send))
    return status["code"], json.loads(bytes(body)), pulled


HEAD = b'--B\r\nContent-Disposition: form-data; name="ct"; filename="ct.png"\r\nContent-Type: image/png\r\n\r\n'


def test_chunked_upload_over_the_limit_is_refused_while_streaming(make_client):
    client = make_client(max_bytes=100_000)
    limit = api_module.max_body_bytes(100_000)
    chunk, filler = 16_384, 200  # 3.3 MB offered, no Content-Length (chunked transfer)
    status, body, pulled = asgi_post(client.app, HEAD, filler, chunk, [(b"transfer-encoding", b"chunked")])
    assert status == 413 and set(body) == {"error"} and "limit" in body["error"]
    assert limit < pulled <= limit + chunk + len(HEAD)  # stopped at the first chunk past the limit
    assert client.app.state.store.audit_log()[0].detail["status"] == 413


def test_chunked_upload_under_the_limit_is_read(make_client):
    client = make_client(max_bytes=100_000)
    head = HEAD[: -len(b"\r\n\r\n")] + b"\r\n\r\n" + CT_PNG
    status, body, _ = asgi_post(client.app, head, 0, 1, [(b"transfer-encoding", b"chunked")])
    assert status == 200, body
    assert body["ct"]["label"] == "cell_porosity"


def test_declared_length_over_the_limit_is_refused_unread(make_client):
    client = make_client(max_bytes=100_000)
    big = str(api_module.max_body_bytes(100_000) + 1).encode()
    status, body, pulled = asgi_post(client.app, HEAD, 10, 1024, [(b"content-length", big)])
    assert status == 413 and "the upload is larger" in body["error"]
    assert pulled == 0


def test_queue_limit_gives_503(make_client, monkeypatch):
    client = make_client(max_workers=1, queue_limit=0)
    started, release = threading.Event(), threading.Event()
    real = api_module.run_inspection

    def slow(*args, **kwargs):
        started.set()
        assert release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(api_module, "run_inspection", slow)
    first: dict = {}
    thread = threading.Thread(target=lambda: first.update(r=post(client, both())))
    thread.start()
    try:
        assert started.wait(10)
        assert assert_error(post(client, both()), 503) == "busy, retry later"
    finally:
        release.set()
        thread.join(10)
    assert first["r"].status_code == 200
    assert post(client, both()).status_code == 200  # the slot came back


def test_serve_command_is_registered():
    from inspector.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "8123"])
    assert (args.host, args.port) == ("127.0.0.1", 8123)
