"""The CT walkthrough of docs/DEVELOPING.md works as written: one file, no project edit, trains.

The code block between the ``walkthrough:ct-architecture`` markers is written into a throwaway
plug-in package outside the project, found only through ``INSPECTOR_PLUGINS``, and trained for
one tiny epoch by ``python -m inspector train ct`` in a subprocess; the checkpoint card must name
the new architecture. Doc and test share the code, so they cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "DEVELOPING.md"
START, END = "<!-- walkthrough:ct-architecture:start -->", "<!-- walkthrough:ct-architecture:end -->"

TINY_CONFIG = """
model: {architecture: tiny_cnn, kwargs: {width: 8}}
data: {input_size: 32, batch_size: 8, num_workers: 0, augment: ct, crop: false}
loss: {name: focal, gamma: 2.0, label_smoothing: 0.1}
train:
  epochs: 1
  lr: 1.0e-3
  max_steps_per_epoch: 2
  tensorboard: false
  progress_bar: false
"""


def walkthrough_code() -> tuple[str, str]:
    """``(architecture name, module source)`` of the CT walkthrough block in DEVELOPING.md."""
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text, "the CT walkthrough markers are missing from DEVELOPING.md"
    section = text[text.index(START) + len(START) : text.index(END)]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python code block between the CT walkthrough markers"
    source = match.group(1)
    names = re.findall(r'@register_model\("([^"]+)"\)', source)
    assert len(names) == 1, "the walkthrough should register exactly one architecture"
    return names[0], source


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{args[0]} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_ct_walkthrough_trains_a_new_architecture_from_one_plugin_file(tmp_path: Path) -> None:
    name, source = walkthrough_code()
    plugins_root = tmp_path / "plugins"
    package = plugins_root / "walkthrough_plugins"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / f"{name}.py").write_text(source)

    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(plugins_root), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        "INSPECTOR_PLUGINS": "walkthrough_plugins",
    }
    data, out, config = tmp_path / "data", tmp_path / "run", tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG.replace("tiny_cnn", name))
    _run(["synth", "--out", str(data), "--batteries", "16", "--size", "64", "--modality", "ct",
          "--ct-per-battery", "4", "--workers", "0"], env)  # fmt: skip
    _run(["train", "ct", "--config", str(config), "--data", str(data), "--out", str(out)], env)

    assert (out / "best.safetensors").is_file()
    card = json.loads((out / "best.json").read_text())
    assert card["task"] == "ct" and card["architecture"] == name
    assert card["model_kwargs"] == {"width": 8}
    listing = _run(["list", "ct_model", "--json"], env)
    assert name in json.loads(listing.stdout)["ct_model"]


def test_without_the_plugin_variable_the_architecture_is_unknown(tmp_path: Path) -> None:
    name, _ = walkthrough_code()
    env = {k: v for k, v in os.environ.items() if k != "INSPECTOR_PLUGINS"}
    listing = _run(["list", "ct_model", "--json"], {**env, "OMP_NUM_THREADS": "1"})
    assert name not in json.loads(listing.stdout)["ct_model"]  # the project itself was not edited
