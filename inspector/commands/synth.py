"""``python -m inspector synth --out DIR [--seed N] [--batteries N] [--size PX] [--modality ct|rgb|both] [--shortcut P] [--engine draw|physics] [--rgb-style S] [--rgb-stations A,B]``."""

from __future__ import annotations

import argparse
import collections
import logging

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="generate a synthetic battery CT/RGB dataset with masks and a manifest")
    p.add_argument(
        "--out", required=True, help="dataset folder to create (a previous synthetic dataset is replaced)"
    )
    p.add_argument("--seed", type=int, default=None, help="master seed (default 0); same seed, same dataset")
    p.add_argument("--batteries", type=int, default=None, help="batteries in train/val/test (default 125)")
    p.add_argument("--size", type=int, default=None, help="image side in pixels (default 256, minimum 64)")
    p.add_argument(
        "--modality", choices=["ct", "rgb", "both"], default=None, help="what to generate (default both)"
    )
    p.add_argument(
        "--shortcut",
        type=float,
        default=None,
        help="P in [0,1]: CT scanner stamp on defect images with probability P (normal: 1-P) in "
        "train/val/test, plus a test_shift split where the stamp is independent of the label",
    )
    p.add_argument("--ct-per-battery", type=int, default=None, help="CT slices per battery (default 24)")
    p.add_argument("--rgb-per-battery", type=int, default=None, help="RGB photos per battery (default 8)")
    p.add_argument("--ct-proportions", default=None, help="e.g. cell_normal=0.23,cell_porosity=0.17,...")
    p.add_argument("--rgb-proportions", default=None, help="e.g. normal=0.64,pollution=0.12,...")
    p.add_argument("--config", default=None, help="YAML file with any SynthConfig field (flags win)")
    p.add_argument(
        "--engine",
        choices=["draw", "physics"],
        default=None,
        help="CT engine: draw (drawn slices, default) or physics (simulated scanner: material phantoms, "
        "polychromatic projection, noise, filtered back-projection)",
    )
    p.add_argument(
        "--rgb-style",
        default=None,
        metavar="STYLE",
        help="RGB renderer preset: flat (default, the original flat-shaded photos), photoreal (shaded, "
        "textured batteries at the fitting stations: conveyor, tray, esd_mat, steel), photoreal_holdout "
        "(held-out stations: lightbox, wood, fabric, cluttered_bench) or photoreal_all",
    )
    p.add_argument(
        "--rgb-stations",
        default=None,
        metavar="A,B",
        help="narrow a photoreal style to some stations (comma separated)",
    )
    p.add_argument("--workers", type=int, default=None, help="worker processes (default 2; 0 = in-process)")
    p.add_argument(
        "--preview", default=None, metavar="FILE.png", help="also write a contact sheet of the dataset"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training.synth.config import load_config, parse_proportions
    from training.synth.generator import generate

    overrides = {
        "seed": args.seed,
        "batteries": args.batteries,
        "size": args.size,
        "modality": args.modality,
        "shortcut": args.shortcut,
        "ct_per_battery": args.ct_per_battery,
        "rgb_per_battery": args.rgb_per_battery,
        "workers": args.workers,
        "engine": args.engine,
        "rgb_style": args.rgb_style,
    }
    if args.rgb_stations:
        overrides["rgb_stations"] = [s.strip() for s in args.rgb_stations.split(",") if s.strip()]
    if args.ct_proportions:
        overrides["ct_proportions"] = parse_proportions(args.ct_proportions, "--ct-proportions")
    if args.rgb_proportions:
        overrides["rgb_proportions"] = parse_proportions(args.rgb_proportions, "--rgb-proportions")
    cfg = load_config(args.config, **overrides)
    df = generate(cfg, args.out)
    if args.preview:
        from training.synth.preview import contact_sheet

        contact_sheet(args.out, args.preview)
        print(f"preview: {args.preview}")
    counts = collections.Counter(zip(df["split"], df["modality"]))
    print(
        f"{len(df)} images in {args.out}: "
        + ", ".join(f"{s}/{m}={n}" for (s, m), n in sorted(counts.items()))
    )
    return 0
