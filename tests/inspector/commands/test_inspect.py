"""``python -m inspector inspect``: contract JSON, one-sided inputs, one-line errors, shipped assets."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.cli import main
from tests.inspector._checkpoints import ct_image, rgb_image, save_ct, save_rgb

REPO = Path(__file__).resolve().parents[3]
CONTRACT_KEYS = {
    "verdict", "confidence", "confidence_calibrated", "confidence_raw", "needs_review", "review_reasons",
    "ct", "rgb", "vlm", "vlg", "timings_ms",
}  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Tiny checkpoints and images: a porous CT slice (16-bit PNG) and a scratched photo."""
    d = tmp_path_factory.mktemp("inspect")
    paths = {"ct_ckpt": save_ct(d), "rgb_ckpt": save_rgb(d)}
    paths["ct_defect"] = d / "ct_defect.png"
    cv2.imwrite(str(paths["ct_defect"]), (ct_image(64, blob=(8, 40, 16, 12)) * 65535).astype(np.uint16))
    paths["ct_normal"] = d / "ct_normal.png"
    cv2.imwrite(str(paths["ct_normal"]), (ct_image(64) * 65535).astype(np.uint16))
    paths["rgb_defect"] = d / "rgb_defect.png"
    cv2.imwrite(str(paths["rgb_defect"]), rgb_image(64, square=(40, 8, 12, 10)))
    paths["rgb_normal"] = d / "rgb_normal.jpg"
    cv2.imwrite(str(paths["rgb_normal"]), rgb_image(64))
    paths["corrupt"] = d / "corrupt.png"
    paths["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    return paths


def _inspect(files, capsys, *args):
    argv = ["inspect", "--ct-checkpoint", str(files["ct_ckpt"]), "--rgb-checkpoint", str(files["rgb_ckpt"])]
    code = main(argv + [str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_json_is_the_contract(files, capsys):
    code, out, _ = _inspect(
        files,
        capsys,
        "--ct",
        files["ct_defect"],
        "--rgb",
        files["rgb_defect"],
        "--battery-type",
        "cell",
        "--axis",
        "x",
        "--json",
    )
    assert code == 0
    result = json.loads(out)
    assert set(result) == CONTRACT_KEYS
    assert result["verdict"] == "composite_defect"
    assert set(result["ct"]) == {"label", "probabilities", "is_defect", "confidence", "boxes", "ood_score"}
    assert set(result["rgb"]) == {"score", "threshold", "is_defect", "confidence", "boxes", "ood_score"}
    assert result["ct"]["boxes"][0]["box"] == [8, 40, 16, 12]
    assert result["vlm"]["backend"] == "findings_writer" and result["vlg"]["backend"] == "model_boxes"


@pytest.mark.parametrize(
    ("ct", "rgb", "verdict", "null_side"),
    [
        ("ct_defect", None, "internal_defect", "rgb"),
        (None, "rgb_defect", "external_defect", "ct"),
        ("ct_normal", "rgb_normal", "normal", None),
    ],
)
def test_inspect_uses_the_sides_given(files, capsys, ct, rgb, verdict, null_side):
    args = ["--json", "--vlm", "none", "--vlg", "none"]
    args += ["--ct", files[ct]] if ct else []
    args += ["--rgb", files[rgb]] if rgb else []
    code, out, _ = _inspect(files, capsys, *args)
    result = json.loads(out)
    assert code == 0 and result["verdict"] == verdict
    if null_side:
        assert result[null_side] is None
    assert result["vlm"]["available"] is False and result["vlm"]["backend"] is None


def test_inspect_without_json_prints_a_summary_and_saves_overlays(files, capsys, tmp_path):
    code, out, _ = _inspect(files, capsys, "--ct", files["ct_defect"], "--save-overlays", tmp_path)
    assert code == 0 and out.startswith("verdict: internal_defect")
    overlay = cv2.imread(str(tmp_path / "ct_overlay.png"))
    assert overlay.shape == (64, 64, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --ct IMG, --rgb IMG, or both"),
        (["--ct", "corrupt"], "corrupt.png"),
        (["--rgb", "/no/such/photo.png"], "photo.png"),
        (["--ct", "ct_defect", "--ct-checkpoint", "/no/such/ct.safetensors"], "does not exist"),
        (["--ct", "ct_defect", "--ct-checkpoint", "rgb_ckpt"], "expected ct or gain"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(files, capsys, args, message):
    args = [str(files.get(a, a)) if isinstance(a, str) else a for a in args]
    code, out, err = _inspect(files, capsys, *args)
    assert code != 0 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert "Traceback" not in err


def test_bad_choice_is_an_argparse_error(files, capsys):
    with pytest.raises(SystemExit) as exc:
        _inspect(files, capsys, "--ct", files["ct_defect"], "--axis", "z")
    assert exc.value.code == 2


#: Shipped samples the shipped models are known to get wrong without a review flag, with why.
#: The test fails when one of them is answered right again (then remove it here).
#: (Empty since round 5: every miss of the shipped CT model on these samples is flagged for review.)
KNOWN_CONFIDENT_MISSES: dict[str, str] = {}


@pytest.mark.slow  # 18 inspections with the shipped models: ~30 s on 2 busy cores
def test_shipped_assets_give_correct_verdicts(capsys):
    """``inspect`` on every sample in ``assets/manifest.csv`` (CT+RGB pairs by ``pair_id``).

    Every verdict is right or comes with ``needs_review`` (apart from the listed known misses,
    which must still be misses); at most 10 % are wrong.
    """
    from inspector.commands.batch import items_from_manifest

    if not list((REPO / "checkpoints").glob("ct_*.json")) or not list(
        (REPO / "checkpoints").glob("rgb_*.json")
    ):
        pytest.skip("the shipped CT/RGB checkpoints are not in checkpoints/ yet")
    if not (REPO / "assets" / "manifest.csv").is_file():
        pytest.skip("the sample assets (assets/manifest.csv) are not there yet")
    wrong: list[str] = []
    unsure = total = 0
    for item in items_from_manifest(REPO / "assets", split="all"):
        args = ["inspect", "--json", "--vlm", "none", "--vlg", "none"]
        args += ["--ct", str(item.ct_path)] if item.ct_path else []
        args += ["--rgb", str(item.rgb_path)] if item.rgb_path else []
        args += ["--battery-type", item.battery_type] if item.battery_type else []
        args += ["--axis", item.axis] if item.axis else []
        assert main(args) == 0
        result = json.loads(capsys.readouterr().out)
        # the contract since the review flag: right, or honestly unsure ("needs review"), never
        # confidently wrong
        confidently_wrong = result["verdict"] != item.expected and not result["needs_review"]
        if confidently_wrong != (item.id in KNOWN_CONFIDENT_MISSES):
            wrong.append(f"{item.id}: expected {item.expected}, got {result['verdict']} (needs_review "
                         f"{result['needs_review']}; listed as a known miss: {item.id in KNOWN_CONFIDENT_MISSES})")
        unsure += result["verdict"] != item.expected
        total += 1
    assert not wrong, "shipped samples answered otherwise than expected: " + "; ".join(wrong)
    assert unsure <= total // 10, f"{unsure} of {total} shipped samples are wrong (flagged for review)"
