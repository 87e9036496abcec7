#!/bin/sh
# The "one line, one station" RGB protocol of docs/rgb_detectors.md: fit a detector on 50 normals
# of one station and evaluate it on that station's test split.
# usage: benchmarks/rgb_station_protocol.sh DATA OUT DETECTOR [BACKBONE]
#   -> OUT/rgb_DETECTOR.safetensors, OUT/eval.json and one summary line on stdout
set -e
DATA=$1; OUT=$2; DETECTOR=$3; BACKBONE=${4:-none}
PY=${PYTHON:-.venv/bin/python}
mkdir -p "$OUT"
$PY -m inspector fit rgb --normals "$DATA" --detector "$DETECTOR" --limit 50 --false-alarm 0.01 \
    --backbone-weights "$BACKBONE" --out "$OUT" > "$OUT/fit.log" 2>&1
$PY -m inspector evaluate rgb --checkpoint "$OUT/rgb_$DETECTOR.safetensors" --data "$DATA" --split test \
    --json "$OUT/eval.json" > "$OUT/eval.log" 2>&1
$PY - "$OUT/eval.json" "$DATA" "$DETECTOR" "$BACKBONE" <<'PY'
import json
import sys

path, data, detector, backbone = sys.argv[1:]
m = json.load(open(path))
ci = m["ci"]["roc_auc"]
print(
    f"{data} {detector} {backbone}: image AUROC {m['roc_auc']:.3f} [{ci['low']}, {ci['high']}] "
    f"pixel AUROC {m.get('pixel_auroc')} PRO {m.get('pro_auc')} "
    f"recall {m['defect_recall']:.3f} normal recall {m['normal_recall']:.3f}"
)
PY
