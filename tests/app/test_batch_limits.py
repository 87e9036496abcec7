"""Batch limits: file count and sizes are checked from the upload list and the ZIP central
directory before anything is read or decompressed; a process-wide cap on concurrent batches."""

from __future__ import annotations

import io
import zipfile

import pytest

from core.errors import InputError
from inspector.ui import batch
from tests.app.conftest import rgb_png, zip_of


def test_a_zip_with_too_many_members_is_refused_before_any_member_is_read(monkeypatch):
    archive = zip_of({f"img_{i}.png": b"x" for i in range(batch.MAX_FILES + 1)})

    def no_read(*args, **kwargs):
        raise AssertionError("a member was decompressed before the count check")

    monkeypatch.setattr(zipfile.ZipFile, "read", no_read)
    monkeypatch.setattr(zipfile.ZipFile, "open", no_read)
    with pytest.raises(InputError, match=f"at most {batch.MAX_FILES} files"):
        batch.expand([("many.zip", archive)])


def test_a_zip_member_declared_larger_than_an_upload_is_refused_unread(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.png", b"\0" * (batch.MAX_MEMBER_BYTES + 1))  # ~26 MiB -> ~26 KiB
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a, **k: pytest.fail("member was read"))
    with pytest.raises(InputError, match="larger than 25 MiB"):
        batch.expand([("bomb.zip", buffer.getvalue())])


def test_several_archives_share_one_file_budget():
    half = zip_of({f"a_{i}.png": b"x" for i in range(batch.MAX_FILES // 2 + 1)})
    other = zip_of({f"b_{i}.png": b"x" for i in range(batch.MAX_FILES // 2 + 1)})
    with pytest.raises(InputError, match="at most"):
        batch.expand([("one.zip", half), ("two.zip", other)])


def test_a_normal_zip_still_unpacks():
    files = batch.expand([("ok.zip", zip_of({"x_ct.png": rgb_png(), "x_rgb.png": rgb_png(1)}))])
    assert [name for name, _ in files] == ["x_ct.png", "x_rgb.png"]


def test_upload_count_and_total_size_are_checked_from_sizes_alone():
    batch.check_uploads([("a.png", 10), ("b.zip", 20)])
    with pytest.raises(InputError, match=f"at most {batch.MAX_FILES} files"):
        batch.check_uploads([(f"{i}.png", 1) for i in range(batch.MAX_FILES + 1)])
    with pytest.raises(InputError, match="MiB"):
        batch.check_uploads([("a.zip", batch.MAX_UPLOAD_BYTES), ("b.png", 1)])


def test_concurrent_batches_are_capped_process_wide():
    with batch.batch_slot(), batch.batch_slot():
        with pytest.raises(InputError, match="already running"):
            with batch.batch_slot():
                pass
    with batch.batch_slot():  # slots come back
        pass
