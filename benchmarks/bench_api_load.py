"""Bounded REST load test on loopback: 8 clients x 50 requests against ``python -m inspector serve``.

Starts the server in a subprocess on 127.0.0.1 (a free port), waits for ``/health``, sends
:data:`CLIENTS` x :data:`REQUESTS` ``POST /v1/inspections`` (one shipped CT + RGB pair each,
no VLM/VLG), and reports errors, p50/p99 latency and the server's RSS growth from after the
warm-up to the end. Every request has a timeout and the run stops by itself; only the loopback
address is ever contacted.
"""

from __future__ import annotations

import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

log = logging.getLogger(__name__)

CLIENTS, REQUESTS, WARMUP = 8, 50, 8
HOST = "127.0.0.1"
TIMEOUT_S = 120.0
GOAL_RSS_GROWTH = 0.10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def main(runtime: str = "onnx") -> dict[str, float]:
    """Run the load test; print and return errors, p50/p99 (ms), RSS growth."""
    root = Path(__file__).resolve().parent.parent
    ct = sorted((root / "assets" / "ct").glob("*.png"))[0].read_bytes()
    rgb = sorted((root / "assets" / "rgb").glob("*.png"))[0].read_bytes()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, INSPECTOR_DB_URL=f"sqlite:///{tmp}/history.db")
        env.pop("INSPECTOR_API_KEYS", None)
        cmd = [sys.executable, "-m", "inspector", "serve", "--host", HOST, "--port", str(port),
               "--runtime", runtime, "--workers", "2", "--queue-limit", "8"]
        server = subprocess.Popen(cmd, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return _load(server, f"http://{HOST}:{port}", ct, rgb, runtime)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def _load(server: subprocess.Popen, base: str, ct: bytes, rgb: bytes, runtime: str) -> dict[str, float]:
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the server did not come up")
        time.sleep(1)
    files = {"ct": ("ct.png", ct, "image/png"), "rgb": ("rgb.png", rgb, "image/png")}
    data = {"battery_type": "cell", "axis": "x", "vlm": "none", "vlg": "none"}
    with httpx.Client(timeout=TIMEOUT_S) as client:
        for _ in range(WARMUP):
            client.post(f"{base}/v1/inspections", files=files, data=data)
    process = psutil.Process(server.pid)
    rss_start = process.memory_info().rss
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client_loop() -> None:
        with httpx.Client(timeout=TIMEOUT_S) as client:
            for _ in range(REQUESTS):
                start = time.perf_counter()
                try:
                    response = client.post(f"{base}/v1/inspections", files=files, data=data)
                    ok = response.status_code == 200
                    detail = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    ok, detail = False, type(exc).__name__
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)
                    if not ok:
                        errors.append(detail)

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    rss_end = process.memory_info().rss
    growth = (rss_end - rss_start) / rss_start
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    print(f"REST load, loopback, {CLIENTS} clients x {REQUESTS} requests, runtime {runtime}, 2 workers "
          f"(CPU shared with other jobs, nice'd)")
    print(f"  errors: {len(errors)} {sorted(set(errors))}  throughput: {len(latencies) / wall:.1f} req/s")
    print(f"  latency p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    print(f"  server RSS {rss_start / 2**20:.0f} -> {rss_end / 2**20:.0f} MiB ({growth:+.1%}, goal <= {GOAL_RSS_GROWTH:.0%})")
    return {"errors": len(errors), "p50_ms": p50, "p99_ms": p99, "rss_growth": growth}


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
