"""``python -m inspector inspect [--ct IMG] [--rgb IMG] ... --json``: inspect one battery."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.errors import InputError
from inspector.settings import default_checkpoints_dir, default_runtime


def add_backend_arguments(
    p: argparse.ArgumentParser, default_vlm: str | None, default_vlg: str | None
) -> None:
    """Options shared by ``inspect`` and ``batch``: checkpoints, thresholds, policy, backends."""
    p.add_argument("--battery-type", choices=("cell", "module"), help="CT metadata: battery type")
    p.add_argument("--axis", choices=("x", "y"), help="CT metadata: slice axis")
    p.add_argument(
        "--ct-checkpoint", help="CT (or GAIN) checkpoint (default: the default card in checkpoints/)"
    )
    p.add_argument("--rgb-checkpoint", help="RGB autoencoder checkpoint (default: the default card)")
    p.add_argument("--checkpoints-dir", default=None, help=argparse.SUPPRESS)
    p.add_argument("--policy", choices=("or", "and"), default="or", help="CT x RGB combination (default: or)")
    p.add_argument("--ct-threshold", type=float, help="CT defect-probability threshold (default: card, 0.5)")
    p.add_argument("--rgb-threshold", type=float, help="RGB anomaly-score threshold (default: card)")
    p.add_argument(
        "--explainer", help="CT explanation: gradcam, gradcam_pp, layercam (default: card, gradcam)"
    )
    p.add_argument("--vlm", default=default_vlm, help=f"VLM backend, or 'none' (default: {default_vlm})")
    p.add_argument("--vlg", default=default_vlg, help=f"VLG backend, or 'none' (default: {default_vlg})")
    p.add_argument(
        "--vlm-mode",
        choices=("blind", "evidence"),
        default="evidence",
        help="blind: the VLM sees only the images and battery metadata; evidence: also the "
        "inspector's maps, scores and verdict (default: evidence)",
    )
    p.add_argument("--lang", choices=("ko", "en"), default="en", help="language of the written finding")
    p.add_argument("--vlm-timeout", type=float, default=60.0, help="seconds before the VLM gives up")
    p.add_argument("--vlg-timeout", type=float, default=60.0, help="seconds before the VLG gives up")
    add_runtime_argument(p)


def add_runtime_argument(p: argparse.ArgumentParser) -> None:
    """``--runtime torch|onnx``: where the models' inference graphs run."""
    from inspector.settings import RUNTIME_NAMES, default_runtime

    p.add_argument(
        "--runtime",
        choices=RUNTIME_NAMES,
        default=default_runtime(),
        help="run the models with torch or ONNX Runtime (default: $INSPECTOR_RUNTIME, else torch)",
    )


def settings_from_args(args: argparse.Namespace) -> Any:
    """Build :class:`InspectorSettings` from the shared options."""
    from inspector.settings import InspectorSettings

    return InspectorSettings(
        ct_checkpoint=args.ct_checkpoint,
        rgb_checkpoint=args.rgb_checkpoint,
        checkpoints_dir=args.checkpoints_dir or default_checkpoints_dir(),
        ct_threshold=args.ct_threshold,
        rgb_threshold=args.rgb_threshold,
        policy=args.policy,
        explainer=args.explainer,
        vlm=args.vlm,
        vlg=args.vlg,
        vlm_mode=getattr(args, "vlm_mode", "evidence"),
        vlm_timeout_s=args.vlm_timeout,
        vlg_timeout_s=args.vlg_timeout,
        runtime=getattr(args, "runtime", None) or default_runtime(),
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="inspect one battery from a CT slice and/or an RGB photo",
        description="Inspect one battery: CT classifier + Grad-CAM, RGB autoencoder + error map, "
        "the CT x RGB verdict, and a written finding (VLM) and boxes (VLG).",
    )
    p.add_argument("--ct", help="CT slice image (PNG, JPEG, TIFF 8/16-bit, DICOM)")
    p.add_argument("--rgb", help="RGB photo of the outside")
    add_backend_arguments(p, default_vlm="findings_writer", default_vlg="model_boxes")
    p.add_argument("--json", action="store_true", help="print the inspection JSON")
    p.add_argument(
        "--save-overlays", metavar="DIR", help="also write the attention / error-map overlays as PNG"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.imageio import load_image
    from inspector.pipeline import InspectionRequest, Inspector, run_inspection

    if not args.ct and not args.rgb:
        raise InputError("give --ct IMG, --rgb IMG, or both")
    request = InspectionRequest(
        ct=load_image(args.ct, "ct") if args.ct else None,
        rgb=load_image(args.rgb, "rgb") if args.rgb else None,
        battery_type=args.battery_type,
        axis=args.axis,
        lang=args.lang,
    )
    sides = tuple(side for side in ("ct", "rgb") if getattr(args, side))
    inspector = Inspector.load(settings_from_args(args), sides=sides)
    evidence = inspector.analyse(request.ct, request.rgb, request.battery_type, request.axis)
    if args.save_overlays:
        _save_overlays(evidence, Path(args.save_overlays))
    result = run_inspection(inspector, request, evidence=evidence)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else summary_text(result))
    return 0


def _save_overlays(evidence: Any, out_dir: Path) -> None:
    """Write ``ct_overlay.png`` / ``rgb_overlay.png``: the explanation map with the defect boxes."""
    import cv2

    from inspector.drawing import draw_boxes

    out_dir.mkdir(parents=True, exist_ok=True)
    for side in ("ct", "rgb"):
        overlay, prediction = getattr(evidence, f"{side}_overlay"), getattr(evidence, side)
        if overlay is not None:
            image = draw_boxes(overlay, prediction.boxes, color=(255, 255, 255), min_side=0)
            cv2.imwrite(str(out_dir / f"{side}_overlay.png"), image[..., ::-1])


def summary_text(result: dict[str, Any]) -> str:
    """A few human-readable lines for one inspection result."""
    lines = [f"verdict: {result['verdict']} (confidence {result['confidence']:.2f})"]
    ct, rgb = result.get("ct"), result.get("rgb")
    if ct:
        state = "defect" if ct["is_defect"] else "normal"
        lines.append(
            f"CT : {ct['label']} ({state}, confidence {ct['confidence']:.2f}), {len(ct['boxes'])} box(es)"
        )
    if rgb:
        state = "defect" if rgb["is_defect"] else "normal"
        lines.append(
            f"RGB: score {rgb['score']:.4g} vs threshold {rgb['threshold']:.4g} "
            f"({state}, confidence {rgb['confidence']:.2f}), {len(rgb['boxes'])} box(es)"
        )
    vlm, vlg = result.get("vlm") or {}, result.get("vlg") or {}
    if vlm.get("backend"):
        text = vlm["error"] or (vlm.get("finding") or {}).get("summary", "")
        lines.append(f"VLM ({vlm['backend']}): {text}")
    if vlg.get("backend"):
        text = vlg["error"] or f"{len(vlg.get('boxes') or [])} box(es)"
        lines.append(f"VLG ({vlg['backend']}): {text}")
    return "\n".join(lines)
