"""Gemini against a local stub HTTP server on 127.0.0.1 (no network, no key leaves the machine)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.errors import BackendUnavailable
from models.vlm import BackendError, create_vlm
from tests.models.vlm._requests import make_request

KEY = "test-key-not-real"
FINDING = {
    "defect_detected": True,
    "defect_type": "porosity",
    "location": "upper-left, near the can wall",
    "severity": "high",
    "probable_cause": "gas trapped during formation",
    "recommended_action": "hold the cell",
    "summary": "pores near the wall",
    "boxes": [{"label": "porosity", "image": "ct", "box_2d": [100, 250, 300, 500]}],
}


def _reply(text: str) -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}]}


class StubGemini:
    """Answers POSTs from a script of (status, body, delay_s); records every request."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                )
                status, payload, delay = stub.script.pop(0) if len(stub.script) > 1 else stub.script[0]
                time.sleep(delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def stub(request, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    server = StubGemini(request.param)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)  # honoured by the SDK itself
    yield server
    server.close()


def _backend(**cfg):
    return create_vlm("gemini", timeout_s=5, retries=1, backoff_s=0.01, max_backoff_s=0.05, **cfg)


@pytest.mark.parametrize("stub", [[(200, _reply(json.dumps(FINDING)), 0)]], indirect=True)
def test_success_sends_evidence_and_schema_and_converts_boxes(stub):
    backend = _backend(model="gemini-test")
    finding = backend.describe(make_request("ko"))
    assert finding.defect_type == "porosity" and finding.severity == "high" and finding.language == "ko"
    # [ymin, xmin, ymax, xmax] = [100, 250, 300, 500] on a 160x128 CT slice
    assert finding.boxes == [
        {"label": "porosity", "score": 1.0, "box": [40.0, 12.8, 40.0, 25.6], "modality": "ct"}
    ]
    (sent,) = stub.requests
    assert sent["path"].endswith("/models/gemini-test:generateContent")
    assert sent["headers"].get("x-goog-api-key") == KEY and KEY not in sent["path"]
    config = sent["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "severity" in json.dumps(config["responseJsonSchema"])
    parts = sent["body"]["contents"][0]["parts"]
    assert sum("inlineData" in p for p in parts) == 2  # CT slice + RGB photo
    prompt = next(p["text"] for p in parts if "text" in p)
    assert "cell_porosity" in prompt and "0.008" in prompt and "한국어" in prompt
    assert backend.last_latency_ms is not None


@pytest.mark.parametrize("stub", [[(200, _reply("I think it is fine, no JSON here."), 0)]], indirect=True)
def test_malformed_answer_is_a_clear_error(stub):
    with pytest.raises(BackendError, match="not a valid finding: the answer contains no JSON object"):
        _backend().describe(make_request())


@pytest.mark.parametrize(
    "stub",
    [
        [
            (429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}, 0),
            (200, _reply(json.dumps(FINDING)), 0),
        ]
    ],
    indirect=True,
)
def test_429_is_retried_then_succeeds(stub):
    finding = _backend().describe(make_request())
    assert finding.defect_detected is True
    assert len(stub.requests) == 2


@pytest.mark.parametrize(
    "stub", [[(500, {"error": {"code": 500, "message": "internal", "status": "INTERNAL"}}, 0)]], indirect=True
)
def test_500_after_retries_is_a_clear_error(stub):
    with pytest.raises(BackendError, match=r"Gemini server error \(HTTP 500\) after 2 attempts"):
        _backend().describe(make_request())
    assert len(stub.requests) == 2


@pytest.mark.parametrize("stub", [[(200, _reply(json.dumps(FINDING)), 10.0)]], indirect=True)
def test_timeout_is_a_clear_error(stub):
    backend = create_vlm("gemini", timeout_s=0.3, retries=0)
    start = time.perf_counter()
    with pytest.raises(BackendError, match=r"did not answer within 0.3 s"):
        backend.describe(make_request())
    assert time.perf_counter() - start < 6.0  # the server would answer after 10 s (slack for a loaded CI machine)


def test_missing_key_is_unavailable(monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    backend = create_vlm("gemini")
    assert backend.availability().reason == "no GEMINI_API_KEY set"
    with pytest.raises(BackendUnavailable, match="no GEMINI_API_KEY set"):
        backend.describe(make_request())


@pytest.mark.parametrize(
    "stub",
    [[(429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}, 0)]],
    indirect=True,
)
def test_persistent_429_names_the_rate_limit_and_never_the_key(stub):
    with pytest.raises(BackendError, match=r"rate-limiting requests \(HTTP 429\) after 2 attempts") as info:
        _backend().describe(make_request())
    assert KEY not in str(info.value)
    assert len(stub.requests) == 2
