"""Fuzz the image decoder for a bounded time (slow suite): ``load_image`` either refuses an input
with an :class:`~core.errors.InputError` or returns a valid image; any other exception fails.

atheris 3.0.0 installs from a binary wheel on this Python (3.11), so the fuzzer is coverage
guided (libFuzzer), seeded with the bad-input corpus. It runs in a subprocess because libFuzzer
ends the process when it stops.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.badinput.corpus import SLOW, cases

FUZZ_SECONDS = int(os.environ.get("INSPECTOR_FUZZ_SECONDS", "60"))
REPO = Path(__file__).resolve().parents[2]


def run_fuzzer(work: Path, seconds: int, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Fuzz for ``seconds`` in ``work`` (seeds in ``work/seeds``, crashes as ``work/crash-*``)."""
    seeds = work / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for case in cases():
        if case.key not in SLOW:
            (seeds / case.key).write_bytes(case.build())
    command = [
        sys.executable, "-m", "tests.badinput.fuzz_imageio",
        f"-max_total_time={seconds}", "-max_len=65536", "-timeout=30", "-rss_limit_mb=3072",
        f"-artifact_prefix={work}/", "-print_final_stats=1", str(seeds),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(extra_env or {})}
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=seconds + 240)


@pytest.mark.slow
@pytest.mark.timeout(FUZZ_SECONDS + 300)
def test_fuzz_load_image(tmp_path):
    pytest.importorskip("atheris")
    done = run_fuzzer(tmp_path, FUZZ_SECONDS)
    crashes = sorted(p.name for p in tmp_path.glob("crash-*")) + sorted(p.name for p in tmp_path.glob("timeout-*"))
    assert done.returncode == 0 and not crashes, (
        f"the fuzzer found a failing input ({crashes}); its report:\n{done.stderr[-4000:]}"
    )
    assert "Done" in done.stderr and "stat::number_of_executed_units" in done.stderr, done.stderr[-2000:]
