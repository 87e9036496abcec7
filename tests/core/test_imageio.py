"""Tests for core.imageio: every supported format and every bad-input case, built in tmp."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pydicom
import pytest
import tifffile
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from core.errors import InputError
from core.imageio import load_image, sniff_format

H, W = 24, 32


@pytest.fixture
def gray16() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 65536, size=(H, W), dtype=np.uint16)


@pytest.fixture
def rgb8() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)


def _png_bytes(image: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", **kwargs)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# CT: float32 H x W in [0, 1]


def test_ct_png_16bit_keeps_full_precision(tmp_path, gray16):
    path = tmp_path / "ct.png"
    assert cv2.imwrite(str(path), gray16)
    out = load_image(path, "ct")
    assert out.dtype == np.float32 and out.shape == (H, W)
    np.testing.assert_allclose(out, gray16 / 65535.0, atol=1e-6)


def test_ct_png_8bit(tmp_path, rgb8):
    gray = rgb8[..., 0]
    path = tmp_path / "ct8.png"
    Image.fromarray(gray).save(path)
    np.testing.assert_allclose(load_image(path, "ct"), gray / 255.0, atol=1e-6)


def test_ct_colour_input_becomes_luminance(tmp_path):
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 1] = 200  # pure green
    path = tmp_path / "green.png"
    Image.fromarray(rgb).save(path)
    out = load_image(path, "ct")
    assert out.shape == (H, W)
    np.testing.assert_allclose(out, 0.587 * 200 / 255.0, atol=1e-5)


def test_ct_jpeg(tmp_path):
    gray = np.full((H, W), 128, np.uint8)
    path = tmp_path / "ct.jpg"
    Image.fromarray(gray).save(path, quality=95)
    np.testing.assert_allclose(load_image(path, "ct"), 128 / 255.0, atol=2 / 255.0)


@pytest.mark.parametrize("dtype,scale", [(np.uint8, 255.0), (np.uint16, 65535.0)])
def test_ct_tiff_8_and_16_bit(tmp_path, gray16, dtype, scale):
    data = (gray16 // 257).astype(np.uint8) if dtype == np.uint8 else gray16
    path = tmp_path / "ct.tif"
    tifffile.imwrite(path, data)
    np.testing.assert_allclose(load_image(path, "ct"), data / scale, atol=1e-6)


def test_ct_tiff_float_out_of_range_is_min_max_scaled(tmp_path):
    data = np.linspace(-1000, 3000, H * W, dtype=np.float32).reshape(H, W)
    path = tmp_path / "ct_float.tif"
    tifffile.imwrite(path, data)
    out = load_image(path, "ct")
    assert out.min() == pytest.approx(0.0) and out.max() == pytest.approx(1.0)
    np.testing.assert_allclose(out, (data + 1000) / 4000, atol=1e-6)


def test_ct_tiff_miniswhite_is_inverted(tmp_path):
    data = np.zeros((H, W), np.uint8)
    data[:, : W // 2] = 255
    path = tmp_path / "white.tif"
    tifffile.imwrite(path, data, photometric="miniswhite")
    out = load_image(path, "ct")
    assert out[:, : W // 2].max() == 0.0 and out[:, W // 2 :].min() == 1.0


def _dicom_bytes(pixels: np.ndarray, **attrs) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_ct_dicom_rescale_and_window(tmp_path):
    raw = np.linspace(0, 2400, H * W).astype(np.uint16).reshape(H, W)
    path = tmp_path / "ct.dcm"
    path.write_bytes(
        _dicom_bytes(raw, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=40, WindowWidth=400)
    )
    out = load_image(path, "ct")
    hu = raw.astype(np.float64) - 1024
    expected = np.clip((hu - 39.5) / 399.0 + 0.5, 0, 1)
    assert out.dtype == np.float32 and out.shape == (H, W)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert out.min() == 0.0 and out.max() == 1.0  # the window clips both ends of this ramp


def test_ct_dicom_without_window_is_min_max_and_monochrome1_inverted():
    raw = np.linspace(100, 1100, H * W).astype(np.uint16).reshape(H, W)
    plain = load_image(_dicom_bytes(raw, RescaleSlope=2, RescaleIntercept=0), "ct")
    np.testing.assert_allclose(plain, (raw - 100.0) / 1000.0, atol=1e-5)
    inverted = load_image(_dicom_bytes(raw, PhotometricInterpretation="MONOCHROME1"), "ct")
    np.testing.assert_allclose(inverted, 1.0 - plain, atol=1e-5)


def test_dicom_needs_sizes_within_limits():
    raw = np.zeros((H, W), np.uint16)
    with pytest.raises(InputError, match="MP limit"):
        load_image(_dicom_bytes(raw), "ct", max_pixels=100)


# --------------------------------------------------------------------------------------------------
# RGB: uint8 H x W x 3


def test_rgb_png_roundtrip_from_bytes_and_file_like(rgb8):
    data = _png_bytes(Image.fromarray(rgb8))
    np.testing.assert_array_equal(load_image(data, "rgb"), rgb8)
    stream = io.BytesIO(data)
    stream.read(5)  # a half-read upload is rewound
    out = load_image(stream, "rgb")
    assert out.dtype == np.uint8 and out.shape == (H, W, 3)
    np.testing.assert_array_equal(out, rgb8)


def test_rgb_from_grayscale_is_replicated(tmp_path, rgb8):
    gray = rgb8[..., 0]
    path = tmp_path / "g.png"
    Image.fromarray(gray).save(path)
    out = load_image(path, "rgb")
    assert out.shape == (H, W, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


def test_rgba_is_composited_on_white():
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[:, : W // 2] = (255, 0, 0, 0)  # fully transparent red -> white
    rgba[:, W // 2 :] = (0, 0, 255, 255)  # opaque blue stays blue
    out = load_image(_png_bytes(Image.fromarray(rgba, "RGBA")), "rgb")
    assert (out[:, : W // 2] == 255).all()
    assert (out[:, W // 2 :] == (0, 0, 255)).all()


def test_half_transparent_pixel_blends_with_white():
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[...] = (0, 0, 0, 128)
    out = load_image(_png_bytes(Image.fromarray(rgba, "RGBA")), "rgb")
    assert abs(int(out[0, 0, 0]) - 127) <= 1


def test_palette_png_with_transparency():
    image = Image.new("P", (W, H), 0)
    image.putpalette([10, 20, 30, 200, 100, 50] + [0] * (256 * 3 - 6))
    image.paste(1, (0, 0, W // 2, H))
    out = load_image(_png_bytes(image), "rgb")
    assert (out[:, : W // 2] == (200, 100, 50)).all() and (out[:, W // 2 :] == (10, 20, 30)).all()
    transparent = load_image(_png_bytes(image, transparency=0), "rgb")
    assert (transparent[:, W // 2 :] == 255).all()


def test_cmyk_jpeg_and_tiff(tmp_path):
    image = Image.new("CMYK", (W, H), (0, 255, 255, 0))  # red
    for suffix in ("jpg", "tif"):
        path = tmp_path / f"cmyk.{suffix}"
        image.save(path)
        out = load_image(path, "rgb").astype(int)
        assert (abs(out[H // 2, W // 2] - (255, 0, 0)) <= 3).all(), suffix


def test_rgb_16bit_png_and_tiff_scaled_to_8bit(tmp_path):
    rgb16 = np.zeros((H, W, 3), np.uint16)
    rgb16[..., 0] = 65535
    rgb16[..., 1] = 32896  # 128 * 257
    bgr_path = tmp_path / "c16.png"
    assert cv2.imwrite(str(bgr_path), rgb16[..., ::-1])
    tif_path = tmp_path / "c16.tif"
    tifffile.imwrite(tif_path, rgb16, photometric="rgb")
    for path in (bgr_path, tif_path):
        out = load_image(path, "rgb")
        assert out.dtype == np.uint8
        assert (out[..., 0] == 255).all() and (out[..., 1] == 128).all() and (out[..., 2] == 0).all()


def test_rgba_tiff_and_palette_tiff(tmp_path):
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[...] = (0, 255, 0, 0)
    path = tmp_path / "rgba.tif"
    tifffile.imwrite(path, rgba, photometric="rgb", extrasamples=["unassalpha"])
    assert (load_image(path, "rgb") == 255).all()
    palette = Image.new("P", (W, H), 1)
    palette.putpalette([0, 0, 0, 0, 200, 0] + [0] * (256 * 3 - 6))
    ppath = tmp_path / "p.tif"
    palette.save(ppath)
    assert (load_image(ppath, "rgb") == (0, 200, 0)).all()


def test_exif_orientation_is_applied(tmp_path):
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:, : W // 2] = (255, 0, 0)  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    path = tmp_path / "rot.jpg"
    Image.fromarray(rgb).save(path, exif=exif, quality=95)
    out = load_image(path, "rgb")
    assert out.shape == (W, H, 3)
    assert out[2, H // 2, 0] > 200  # the red left half is now on top
    assert out[-3, H // 2, 0] < 50


def test_bmp_and_webp(tmp_path, rgb8):
    for fmt, suffix in (("BMP", "bmp"), ("WEBP", "webp")):
        path = tmp_path / f"x.{suffix}"
        Image.fromarray(rgb8).save(path, format=fmt, lossless=True)
        np.testing.assert_array_equal(load_image(path, "rgb"), rgb8)


# --------------------------------------------------------------------------------------------------
# bad input: one InputError sentence each


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_image(tmp_path / "nope.png", "rgb")


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(InputError, match="not a file"):
        load_image(tmp_path, "rgb")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        load_image(path, "ct")


def test_unsupported_type(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image at all")
    with pytest.raises(InputError, match="not a supported image type"):
        load_image(path, "rgb")
    gif = io.BytesIO()
    Image.new("RGB", (W, H)).save(gif, format="GIF")
    with pytest.raises(InputError, match="is a GIF, which is not accepted"):
        load_image(gif.getvalue(), "rgb")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_truncated_files(rgb8, fmt):
    buf = io.BytesIO()
    Image.fromarray(rgb8).save(buf, format=fmt)
    data = buf.getvalue()
    with pytest.raises(InputError, match="corrupt or truncated"):
        load_image(data[: len(data) // 2], "rgb")


def test_corrupt_png_body(rgb8):
    data = bytearray(_png_bytes(Image.fromarray(rgb8)))
    data[60:80] = b"\x00" * 20
    with pytest.raises(InputError, match="corrupt or truncated"):
        load_image(bytes(data), "rgb")


def test_truncated_dicom():
    data = _dicom_bytes(np.zeros((H, W), np.uint16))
    with pytest.raises(InputError, match="DICOM"):
        load_image(data[: len(data) - 200], "ct")


def test_file_above_byte_limit(tmp_path, rgb8):
    path = tmp_path / "big.png"
    Image.fromarray(rgb8).save(path)
    with pytest.raises(InputError, match="limit"):
        load_image(path, "rgb", max_bytes=100)
    with pytest.raises(InputError, match="limit"):
        load_image(io.BytesIO(path.read_bytes()), "rgb", max_bytes=100)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge image but carries almost no data (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))


def test_decompression_bomb_is_rejected_before_decoding():
    with pytest.raises(InputError, match="decompression bomb"):
        load_image(_png_header_only(50_000, 50_000), "rgb")  # above PIL's own bomb limit
    with pytest.raises(InputError, match="MP limit"):
        load_image(_png_header_only(9_000, 9_000), "rgb")  # 81 MP: below PIL's own bomb limit


def test_pixel_limit_applies_to_tiff(tmp_path, gray16):
    path = tmp_path / "t.tif"
    tifffile.imwrite(path, gray16)
    with pytest.raises(InputError, match="MP limit"):
        load_image(path, "ct", max_pixels=H * W - 1)
    assert load_image(path, "ct", max_pixels=H * W).shape == (H, W)


def test_tiny_image_is_rejected():
    with pytest.raises(InputError, match="minimum side"):
        load_image(_png_bytes(Image.new("RGB", (3, 3))), "rgb")


def test_unknown_modality(rgb8):
    with pytest.raises(InputError, match="modality"):
        load_image(_png_bytes(Image.fromarray(rgb8)), "xray")  # type: ignore[arg-type]


def test_error_message_is_one_sentence_naming_the_file(tmp_path):
    path = tmp_path / "scan_001.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError) as info:
        load_image(path, "ct")
    message = str(info.value)
    assert message.startswith("scan_001.png ") and "\n" not in message


def test_sniff_format():
    assert sniff_format(b"\x89PNG\r\n\x1a\nxxxx") == "PNG"
    assert sniff_format(b"\xff\xd8\xff\xe0") == "JPEG"
    assert sniff_format(b"II*\x00....") == "TIFF"
    assert sniff_format(b"\x00" * 128 + b"DICM") == "DICOM"
    assert sniff_format(b"GIF89a") is None


def _multiframe_bytes(frames: int, size: int) -> bytes:
    stack = np.stack([np.full((size, size), 1000 * (k + 1), np.uint16) for k in range(frames)])
    # a fixed window keeps each frame's level: frame k reads about (1000 (k + 1)) / 5000
    meta_frames = _dicom_bytes(stack[0], NumberOfFrames=frames, WindowCenter=2500, WindowWidth=5000)
    ds = pydicom.dcmread(io.BytesIO(meta_frames))
    ds.PixelData = stack.tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_multiframe_dicom_frames_count_against_the_pixel_budget_and_the_middle_frame_is_used():
    data = _multiframe_bytes(5, 32)
    image = load_image(data, "ct")
    assert image.shape == (32, 32)
    with pytest.raises(InputError, match="5 frames"):
        load_image(data, "ct", max_pixels=32 * 32 * 4)  # each frame fits, the stack does not
    # the middle frame is the one decoded: index 2 of 5 has level 3000 -> ~0.6
    assert float(image.mean()) == pytest.approx(0.6, abs=0.01)


def test_extreme_aspect_ratios_are_refused_with_a_reason():
    buf = io.BytesIO()
    Image.fromarray(np.zeros((20, 400), np.uint8)).save(buf, format="PNG")
    with pytest.raises(InputError, match="aspect ratio"):
        load_image(buf.getvalue(), "rgb")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_huge_images_are_reduced_while_decoding(fmt):
    from core.imageio import MAX_WORKING_SIDE

    side = MAX_WORKING_SIDE + 904
    rgb = np.zeros((side, side // 2, 3), np.uint8)
    rgb[:, : side // 4] = 200
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **({"compression": "tiff_lzw"} if fmt == "TIFF" else {}))
    out = load_image(buf.getvalue(), "rgb")
    assert max(out.shape[:2]) <= MAX_WORKING_SIDE and out.shape[0] > out.shape[1]
    assert out[:, : out.shape[1] // 2 - 2].mean() > 190 and out[:, out.shape[1] // 2 + 2 :].mean() < 10


@pytest.mark.parametrize("compression", ["lzw", "zlib", "jpeg"])
def test_compressed_tiff_decodes(compression):
    import tifffile

    image = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (64, 1))
    buf = io.BytesIO()
    tifffile.imwrite(buf, image, compression=compression)
    out = load_image(buf.getvalue(), "ct")
    assert out.shape == (64, 64) and out[:, -1].mean() > 0.9 and out[:, 0].mean() < 0.1
