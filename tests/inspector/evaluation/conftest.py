"""A tiny dataset folder (4 test images, 2 with a defect box) for the VLM/VLG evaluations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.manifest import write_manifest

DEFECT_BOX = [10, 20, 16, 12]


@pytest.fixture()
def dataset(tmp_path):
    rows = []
    for i, (modality, defect) in enumerate([("ct", True), ("ct", False), ("rgb", True), ("rgb", False)]):
        path = tmp_path / f"{modality}_{i}.png"
        if modality == "ct":
            Image.fromarray(np.full((48, 64), 20000 + 1000 * i, np.uint16)).save(path)
            label = "cell_porosity" if defect else "cell_normal"
        else:
            Image.fromarray(np.full((48, 64, 3), 100 + 10 * i, np.uint8)).save(path)
            label = "scratch" if defect else "normal"
        rows.append(
            {
                "image_path": path.name,
                "mask_path": "",
                "modality": modality,
                "battery_id": f"b{i}",
                "battery_type": "cell",
                "axis": "x" if modality == "ct" else "",
                "slice_index": 0,
                "label": label,
                "is_defect": int(defect),
                "boxes": [DEFECT_BOX] if defect else [],
                "split": "test",
            }
        )
    write_manifest(pd.DataFrame(rows), tmp_path)
    return tmp_path
