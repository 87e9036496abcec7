"""Fixtures of the app tests: tiny random-init checkpoints, sample assets and a private database.

The checkpoints use real registered architectures (a timm ``test_resnet`` CT classifier and a
compact autoencoder) so that ``streamlit run`` in a subprocess can load them too.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.manifest import COLUMNS

CT_CLASSES = ["cell_normal", "cell_porosity", "module_normal", "module_porosity", "module_resin_overflow"]
SIZE = 64


def build_checkpoints(folder: Path) -> Path:
    """Write ``ct_tiny`` (default), ``ct_other`` and ``rgb_tiny`` (default) into ``folder``."""
    import torch

    from core.checkpoint import save_checkpoint
    from models.ct_cnn import create_model as create_ct
    from models.rgb_ae import create_model as create_ae
    from tests.inspector._checkpoints import rgb_card

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name, default in (("ct_tiny", True), ("ct_other", False)):
        card = {
            "task": "ct",
            "architecture": "timm",
            "model_kwargs": {"variant": "test_resnet"},
            "class_names": CT_CLASSES,
            "input_size": 32,
            "normalisation": {"mean": [0.5], "std": [0.25]},
            "temperature": 1.0,
            "default": default,
            "metrics": {
                "accuracy": 0.5,
                "macro_f1": 0.4,
                "per_class": {c: {"precision": 0.5, "recall": 0.5, "f1": 0.5} for c in CT_CLASSES},
                "confusion_matrix": np.eye(5, dtype=int).tolist(),
                "roc_curve": {"fpr": [0.0, 0.2, 1.0], "tpr": [0.0, 0.7, 1.0]},
            },
        }
        model = create_ct("timm", num_classes=5, in_chans=1, variant="test_resnet")
        save_checkpoint(model, folder / name, card, fp16=False)
    ae = create_ae("conv_ae_compact", channels=[4, 8], latent_channels=4)
    card = rgb_card(default=True, metrics={"roc_auc": 0.9, "threshold": 0.01})
    save_checkpoint(ae, folder / "rgb_tiny", card, fp16=False)
    return folder


def ct_png(seed: int = 0) -> bytes:
    """A 16-bit grayscale CT-like PNG with a bright blob."""
    rng = np.random.default_rng(seed)
    image = (rng.random((SIZE, SIZE)) * 20000 + 10000).astype(np.uint16)
    image[20:30, 24:34] = 60000
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def rgb_png(seed: int = 0) -> bytes:
    """An 8-bit RGB PNG with a dark scratch."""
    rng = np.random.default_rng(seed)
    image = (rng.random((SIZE, SIZE, 3)) * 60 + 120).astype(np.uint8)
    image[40:44, 8:50] = 10
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def build_assets(folder: Path) -> Path:
    """A sample CT+RGB pair and a lone RGB image with ``manifest.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pair_ct.png").write_bytes(ct_png(1))
    (folder / "pair_rgb.png").write_bytes(rgb_png(1))
    (folder / "lone_rgb.png").write_bytes(rgb_png(2))
    columns = [*COLUMNS, "pair_id"]
    rows = [
        ["pair_ct.png", "", "ct", "b1", "module", "y", "3", "module_porosity", "1", "[]", "test", "p1"],
        ["pair_rgb.png", "", "rgb", "b1", "module", "", "", "scratch", "1", "[]", "test", "p1"],
        ["lone_rgb.png", "", "rgb", "b2", "cell", "", "", "normal", "0", "[]", "test", ""],
    ]
    with (folder / "manifest.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return folder


@pytest.fixture(scope="session")
def shipped(tmp_path_factory) -> dict[str, Path]:
    """Checkpoints, assets and docs folders shared by the app tests (built once per session)."""
    root = tmp_path_factory.mktemp("app_data")
    docs = root / "docs"
    (docs / "ablation").mkdir(parents=True)
    (docs / "ablation" / "table.md").write_text("| strategy | cam_iou |\n|---|---|\n| S1 | 0.1 |\n")
    (docs / "ablation" / "results.json").write_text(
        '[{"strategy": "S1", "cam_iou": 0.1}, {"strategy": "S2", "cam_iou": 0.3}]'
    )
    (docs / "ct_tiny").mkdir()
    (docs / "ct_tiny" / "roc.png").write_bytes(rgb_png())
    (docs / "ct_tiny" / "report.md").write_text("# Test split\n\n![ROC curves](roc.png)\n\nmacro F1 0.4\n")
    (docs / "ct_architecture_comparison.md").write_text(
        "# Comparison\n\n| model | f1 |\n|---|---|\n| a | 1 |\n"
    )
    (docs / "DEVELOPING.md").write_text("# not a report\n")
    return {
        "checkpoints": build_checkpoints(root / "checkpoints"),
        "assets": build_assets(root / "assets"),
        "docs": docs,
    }


@pytest.fixture
def app_env(shipped, tmp_path, monkeypatch) -> dict[str, Path]:
    """Point the app at the tiny checkpoints, the samples and a fresh SQLite database."""
    db = tmp_path / "history.db"
    monkeypatch.setenv("INSPECTOR_CHECKPOINTS_DIR", str(shipped["checkpoints"]))
    monkeypatch.setenv("INSPECTOR_ASSETS_DIR", str(shipped["assets"]))
    monkeypatch.setenv("INSPECTOR_DOCS_DIR", str(shipped["docs"]))
    monkeypatch.setenv("INSPECTOR_DB_URL", f"sqlite:///{db}")
    monkeypatch.setenv("INSPECTOR_CACHE_DIR", str(tmp_path / "cache"))
    return {**shipped, "db": db}


REPO = Path(__file__).resolve().parents[2]


def page_path(key: str) -> str:
    """The absolute path AppTest.switch_page() needs for ``pages/<key>.py``."""
    return str(REPO / "pages" / f"{key}.py")


@pytest.fixture
def app(app_env, tmp_path):
    """An AppTest of ``app.py``, started through a small entry script outside the repo.

    AppTest treats an app whose folder holds ``pages/`` as a v1 multipage app and drops the
    sidebar on re-runs; running ``app.py`` from another folder avoids that (the app builds
    its pages from absolute paths).
    """
    from streamlit.testing.v1 import AppTest

    entry = tmp_path / "entry.py"
    entry.write_text(f"import runpy\nrunpy.run_path({str(REPO / 'app.py')!r}, run_name='__main__')\n")
    at = AppTest.from_file(str(entry), default_timeout=90)
    # These tests press Run themselves; the automatic start has its own tests (auto_app).
    at.session_state["saved.settings_auto_run"] = False
    return at


@pytest.fixture
def auto_app(app_env, tmp_path):
    """Like :func:`app`, with the default "inspect as soon as both images arrive" (on)."""
    from streamlit.testing.v1 import AppTest

    entry = tmp_path / "entry.py"
    entry.write_text(f"import runpy\nrunpy.run_path({str(REPO / 'app.py')!r}, run_name='__main__')\n")
    return AppTest.from_file(str(entry), default_timeout=90)
