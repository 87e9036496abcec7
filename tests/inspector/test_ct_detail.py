"""The CT detail pass: near-native-resolution tiles of large slices (inspector.predictors.ct_detail)."""

import numpy as np
import pytest

from core.errors import CheckpointError
from inspector.predictors import load_predictor
from inspector.predictors.ct_detail import DetailPass, to_family
from tests.inspector._checkpoints import ct_image, save_ct

SMALL_VOID = (60, 60, 8, 8)  # 8x8 bright blob in a 128 px slice; the model sees 32 px


def test_tiles_cover_the_view_at_the_allowed_scale():
    view = np.random.default_rng(0).random((300, 200)).astype(np.float32)
    tiles = DetailPass(max_downscale=1.5, overlap=0.25).tiles(view, 32)
    covered = np.zeros(view.shape, bool)
    for tile in tiles:
        assert tile.image.shape == (32, 32)
        x, y, w, h = tile.window
        assert 0 <= x and 0 <= y and x + w <= 200 + 1 and y + h <= 300 + 1
        # each tile covers at most 1.5x its side in view pixels (the shrink is bounded)
        assert max(w, h) <= 1.5 * 32 + 1
        covered[y : y + h, x : x + w] = True
    assert covered.all()


def test_tile_count_is_bounded_for_any_size():
    view = np.zeros((4000, 4000), np.float32)
    tiles = DetailPass(max_downscale=1.0, max_tiles=16).tiles(view, 32)
    assert 1 <= len(tiles) <= 16


def test_needed_only_when_the_view_is_shrunk_too_much():
    detail = DetailPass(max_downscale=1.5)
    assert not detail.needed((48, 40), 32)
    assert detail.needed((49, 20), 32)


@pytest.mark.parametrize(
    "block", [{"max_downscale": 0.5}, {"overlap": 0.95}, {"tiles": 3}, "yes please"]
)
def test_bad_card_blocks_are_checkpoint_errors(block):
    with pytest.raises(CheckpointError):
        DetailPass.from_card({"preprocessing": {"detail_pass": block}})


def test_card_switches_it_on_and_off():
    assert DetailPass.from_card({}) is None
    assert DetailPass.from_card({"preprocessing": {"detail_pass": False}}) is None
    assert DetailPass.from_card({"preprocessing": {"detail_pass": True}}) == DetailPass()
    assert DetailPass.from_card({"preprocessing": {"detail_pass": {"max_downscale": 2}}}).max_downscale == 2.0


def test_to_family_moves_mass_onto_the_whole_views_battery_type():
    probs = {
        "cell_normal": 0.1,
        "cell_porosity": 0.2,
        "module_normal": 0.3,
        "module_porosity": 0.15,
        "module_resin_overflow": 0.25,
    }
    cell = to_family(probs, "cell")
    assert cell["cell_normal"] == pytest.approx(0.4) and cell["cell_porosity"] == pytest.approx(0.6)
    assert cell["module_normal"] == cell["module_porosity"] == cell["module_resin_overflow"] == 0.0
    module = to_family(probs, "module")
    assert module["module_porosity"] == pytest.approx(0.35)
    assert module["module_resin_overflow"] == pytest.approx(0.25)
    assert sum(module.values()) == pytest.approx(1.0)


def test_small_void_lost_at_model_size_is_found_by_the_detail_pass(tmp_path):
    image = ct_image(128, blob=SMALL_VOID)
    plain = load_predictor(save_ct(tmp_path, "plain")).predict(image)
    assert not plain.is_defect  # shrunk 4x the blob no longer looks like a void

    detail = load_predictor(
        save_ct(tmp_path, "detail", preprocessing={"detail_pass": {"max_downscale": 1.0, "max_tiles": 100}})
    ).predict(image)
    assert detail.is_defect and detail.label == "cell_porosity"
    assert sum(detail.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    # the attention and the box point at the void, in the input image's pixels
    y, x = np.unravel_index(np.argmax(detail.attention), detail.attention.shape)
    assert 52 <= x <= 76 and 52 <= y <= 76
    assert detail.boxes
    bx, by, bw, bh = detail.boxes[0]["box"]
    assert bx <= 68 and bx + bw >= 60 and by <= 68 and by + bh >= 60


def test_detail_pass_leaves_a_clean_large_slice_normal(tmp_path):
    predictor = load_predictor(
        save_ct(tmp_path, "detail", preprocessing={"detail_pass": {"max_downscale": 1.0, "max_tiles": 100}})
    )
    assert not predictor.predict(ct_image(128)).is_defect
