"""Inspect page: upload a CT and/or an RGB image (or pick a bundled sample), set the CT
metadata, run. Run checks the images here and hands them to the Summary page, which shows the
inspection's live status, then the verdict, then the VLM and VLG results as they arrive.

With the setting "inspect as soon as both images arrive" (on by default) the page starts the
inspection itself in the run that receives the second upload, saving the Run round trip. Each
upload is decoded once (when it arrives) and its preview encoded once; Run and the automatic
start reuse the decoded image.
"""

import logging

import cv2
import numpy as np
import streamlit as st

from core.errors import InspectorError
from inspector.drawing import png_bytes, to_rgb_uint8
from inspector.ui import actions, auth, navigation, state
from inspector.ui.catalog import Sample, checkpoints_dir, list_cards, list_samples
from inspector.ui.guard import page_guard
from inspector.ui.state import t

log = logging.getLogger(__name__)

SOURCE_KEY = "inspect_source"
SAMPLE_KEY = "inspect_sample"
BATTERY_KEY = "inspect_battery_type"
AXIS_KEY = "inspect_axis"
NOTICE_KEY = "inspect_notice"
#: What each uploader showed when the page was last drawn: ``{"ct": file_id | None, ...}``.
SEEN_KEY = "inspect_seen_uploads"
#: Each upload decoded once: ``{"ct": (file_id, image or None, preview PNG or error text)}``.
DECODED_KEY = "inspect_decoded_uploads"
#: The ``(ct file_id, rgb file_id)`` pair last started automatically (never twice).
AUTO_DONE_KEY = "inspect_auto_started"
PREVIEW_SIDE = 256


def main() -> None:
    """Inputs, metadata and the Run button."""
    if state.pending() is not None:
        # Run was accepted but a concurrent rerun (e.g. an upload finishing) won the page switch
        navigation.switch_to("summary")
    st.title(t("inspect.title"))
    st.caption(t("app.caption"))
    if not list_cards():
        st.warning(t("inspect.no_checkpoints", path=checkpoints_dir()), icon=":material/warning:")
    else:
        _warm_up()

    samples = list_samples()
    source = st.radio(
        t("inspect.source"),
        ("upload", "sample"),
        key=SOURCE_KEY,
        horizontal=True,
        format_func=state.labels("inspect.source_"),
    )
    if source == "upload":
        _uploads()
    else:
        _sample(samples)

    st.subheader(t("inspect.metadata"))
    left, right = st.columns(2)
    left.radio(
        t("inspect.battery_type"),
        ("cell", "module"),
        key=BATTERY_KEY,
        horizontal=True,
        format_func=state.labels("battery."),
    )
    right.radio(
        t("inspect.axis"), ("x", "y"), key=AXIS_KEY, horizontal=True, format_func=state.labels("axis.")
    )

    st.button(
        t("inspect.run"),
        type="primary",
        key="inspect_run",
        icon=":material/play_arrow:",
        on_click=_submit,
        args=(samples,),
    )
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice is not None:
        kind, text = notice
        (st.error if kind == "error" else st.warning)(text, icon=":material/warning:")
    elif source == "upload" and state.settings().auto_run and _both_arrived():
        _submit(samples)  # switches to the Summary page unless the images are refused
        st.rerun()  # refused: show why (the pair is marked started, so this runs once)


def _both_arrived() -> bool:
    """``True`` once for each new CT+RGB pair of decodable uploads (marks the pair as started)."""
    seen = st.session_state.get(SEEN_KEY) or {}
    if seen.get("ct") is None or seen.get("rgb") is None:
        return False
    decoded = st.session_state.get(DECODED_KEY) or {}
    if any(decoded.get(m, (None, None))[1] is None for m in ("ct", "rgb")):
        return False  # not decodable: the preview shows why; Run would say it again
    pair = (seen["ct"][0], seen["rgb"][0])
    if st.session_state.get(AUTO_DONE_KEY) == pair:
        return False
    st.session_state[AUTO_DONE_KEY] = pair
    log.info("both images arrived: inspecting without waiting for Run")
    return True


def _submit(samples: list[Sample]) -> None:
    """Run button callback: validate the chosen images, then open the Summary, which inspects.

    Reads the inputs from the session (not from the last drawing of the page), so a file whose
    upload finished just before the click is included. A bad file keeps the user here with a
    message; switching pages from the callback saves a whole run of this page.
    """
    ct_input, rgb_input, names = _current_inputs(samples)
    missing = _missing_upload({"ct": ct_input, "rgb": rgb_input})
    if missing is not None:
        st.session_state[NOTICE_KEY] = ("error", missing)
        log.warning("inspection refused: an upload is not in the request (%s)", missing)
        return
    if ct_input is None and rgb_input is None:
        st.session_state[NOTICE_KEY] = ("warning", t("inspect.need_image"))
        return
    try:
        ct = _decoded(ct_input, "ct", names.get("ct"))
        rgb = _decoded(rgb_input, "rgb", names.get("rgb"))
    except InspectorError as exc:
        st.session_state[NOTICE_KEY] = ("error", str(exc))
        return
    except Exception as exc:  # callbacks run outside page_guard: never let a traceback through
        log.exception("could not read the uploaded images")
        st.session_state[NOTICE_KEY] = (
            "error",
            t("app.unexpected_error", error=f"{type(exc).__name__}: {exc}"),
        )
        return
    inputs = {**names, "battery_type": st.session_state[BATTERY_KEY], "axis": st.session_state[AXIS_KEY]}
    try:
        actions.check_complete(ct, rgb, inputs)
    except InspectorError as exc:
        st.session_state[NOTICE_KEY] = ("error", str(exc))
        return
    user = auth.session_user().username
    state.set_pending(actions.PendingInspection(ct, rgb, inputs, state.settings(), state.lang(), user))
    log.info("inspection requested: %s", inputs)
    navigation.switch_to("summary")


def _missing_upload(chosen: dict) -> str | None:
    """Why the request would hold fewer or other uploads than the page showed, or ``None``.

    The uploaders record what they showed when the page was last drawn (:data:`SEEN_KEY`); a
    file shown there but absent from (or different in) the request is an upload still in
    flight or a change racing the click: refuse rather than inspect fewer images.
    """
    if st.session_state.get(SOURCE_KEY, "upload") != "upload":
        return None
    seen = st.session_state.get(SEEN_KEY) or {}
    for modality in ("ct", "rgb"):
        shown = seen.get(modality)
        if shown is None:
            continue
        current = chosen.get(modality)
        if current is None or getattr(current, "file_id", None) != shown[0]:
            return t("inspect.upload_missing", modality=modality.upper(), name=actions.safe_name(shown[1]))
    return None


def _current_inputs(samples: list[Sample]) -> tuple:
    """The CT and RGB inputs (upload or sample file) and their names, as chosen right now."""
    if st.session_state.get(SOURCE_KEY, "upload") == "upload":
        ct_file, rgb_file = st.session_state.get("upload_ct"), st.session_state.get("upload_rgb")
        names = {"ct": ct_file.name if ct_file else None, "rgb": rgb_file.name if rgb_file else None}
        return ct_file, rgb_file, names
    sample = next((s for s in samples if s.key == st.session_state.get(SAMPLE_KEY)), None)
    if sample is None:
        return None, None, {}
    names = {"ct": getattr(sample.ct_path, "name", None), "rgb": getattr(sample.rgb_path, "name", None)}
    return sample.ct_path, sample.rgb_path, names


def _decoded(source, modality: str, name: str | None):
    """The decoded image of ``source``: the one decoded on arrival for an upload, else decoded now.

    Raises:
        InputError: the file is corrupt, too large or not an image.
    """
    file_id = getattr(source, "file_id", None)
    cached = (st.session_state.get(DECODED_KEY) or {}).get(modality)
    if file_id is not None and cached is not None and cached[0] == file_id and cached[1] is not None:
        return cached[1]
    return actions.decode(source, modality, name)


def _warm_up() -> None:
    """Load and warm the models for the current settings now, so Run only pays for the inference.

    ``app.py`` already did it at start; this covers a settings change made on this page.
    """
    with page_guard(), st.spinner(t("inspect.status_models")):
        actions.warm_up(state.settings())


def _uploads() -> None:
    columns = st.columns(2)
    seen: dict = {}
    decoded: dict = dict(st.session_state.get(DECODED_KEY) or {})
    for column, modality in zip(columns, ("ct", "rgb")):
        upload = column.file_uploader(
            t(f"inspect.{modality}_upload"),
            type=actions.IMAGE_TYPES,
            key=f"upload_{modality}",
            max_upload_size=actions.MAX_IMAGE_MB,
        )
        seen[modality] = None if upload is None else (upload.file_id, upload.name)
        if upload is None:
            decoded.pop(modality, None)
            continue
        if decoded.get(modality, (None,))[0] != upload.file_id:
            decoded[modality] = _decode_upload(upload, modality)
        _, _, shown = decoded[modality]
        with column:
            if isinstance(shown, bytes):
                st.image(shown, caption=f"{modality.upper()}: {upload.name}", width=220)
            else:
                st.error(shown, icon=":material/warning:")
    st.session_state[SEEN_KEY] = seen
    st.session_state[DECODED_KEY] = decoded


def _decode_upload(upload, modality: str) -> tuple:
    """``(file_id, image, preview PNG)`` of a new upload, or ``(file_id, None, error text)``."""
    try:
        image = actions.decode(upload.getvalue(), modality, upload.name)
    except InspectorError as exc:
        return upload.file_id, None, str(exc)
    return upload.file_id, image, png_bytes(_thumbnail(image))


def _sample(samples: list[Sample]) -> None:
    if not samples:
        st.info(t("inspect.no_samples"))
        return
    by_key = {s.key: s for s in samples}
    if st.session_state.get(SAMPLE_KEY) not in by_key:
        st.session_state[SAMPLE_KEY] = samples[0].key
        _use_sample_metadata(samples[0])
    key = st.selectbox(
        t("inspect.sample"),
        list(by_key),
        key=SAMPLE_KEY,
        format_func=lambda k: by_key[k].title,
        on_change=lambda: _use_sample_metadata(by_key[st.session_state[SAMPLE_KEY]]),
    )
    sample = by_key[key]
    previews = [(p, m) for p, m in ((sample.ct_path, "ct"), (sample.rgb_path, "rgb")) if p is not None]
    for col, (path, modality) in zip(st.columns(2), previews):
        with col:
            _show_preview(path.read_bytes(), modality, path.name)


def _show_preview(data: bytes, modality: str, name: str) -> None:
    """A small picture of an input, or why it cannot be read (shown before Run is pressed)."""
    try:
        st.image(_preview(data, modality, name), caption=f"{modality.upper()}: {name}", width=220)
    except InspectorError as exc:
        st.error(str(exc), icon=":material/warning:")


@st.cache_data(show_spinner=False, max_entries=32)
def _preview(data: bytes, modality: str, name: str) -> bytes:
    """A displayable thumbnail of an input (16-bit CT slices and DICOM included), PNG encoded."""
    return png_bytes(_thumbnail(actions.decode(data, modality, name)))


def _thumbnail(image: np.ndarray) -> np.ndarray:
    """An 8-bit RGB picture of a decoded input, at most :data:`PREVIEW_SIDE` pixels a side."""
    image = to_rgb_uint8(image)
    scale = PREVIEW_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


def _use_sample_metadata(sample: Sample) -> None:
    st.session_state[BATTERY_KEY] = (
        sample.battery_type if sample.battery_type in ("cell", "module") else "cell"
    )
    st.session_state[AXIS_KEY] = sample.axis if sample.axis in ("x", "y") else "x"


main()
