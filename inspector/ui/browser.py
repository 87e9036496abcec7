"""Run the Streamlit app on a free local port and drive it with a headless Debian chromium.

Shared by the end-to-end browser test (``tests/app/test_e2e_browser.py``) and the README
screenshot script (``docs/screenshot_summary.py``)."""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "REPO", "VERDICT_HEADING", "free_port", "streamlit_server"]

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The Summary page's verdict heading (Korean UI), e.g. "복합불량 · Composite defect".
VERDICT_HEADING = re.compile(r"(정상|내부불량|외부불량|복합불량) · ")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(env: Mapping[str, str], logfile: Path, startup_seconds: float = 60.0) -> Iterator[str]:
    """Run ``streamlit run app.py`` (from the repository root) on a free port for the block.

    Args:
        env: The server's whole environment.
        logfile: Where the server's stdout and stderr go.
        startup_seconds: How long to wait for the health check to answer.

    Yields:
        The server's base URL.

    Raises:
        RuntimeError: The server exited or did not answer its health check in time (the message
            carries the end of its log).
    """
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with Path(logfile).open("w") as handle:
        process = subprocess.Popen(command, cwd=REPO, env=dict(env), stdout=handle, stderr=subprocess.STDOUT)
        log.info("started streamlit (pid %d) on %s, log in %s", process.pid, url, logfile)
        try:
            deadline = time.monotonic() + startup_seconds
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited early:\n{Path(logfile).read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            else:
                raise RuntimeError(f"streamlit did not start:\n{Path(logfile).read_text()[-3000:]}")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
