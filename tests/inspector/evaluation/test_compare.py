"""The comparison bench on a 40-pair synthetic set: offline backends, a stub Gemini, the CLI."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from core.imageio import load_image
from inspector.cli import main
from inspector.evaluation.compare import cohen_kappa, run_compare, verdict_metrics
from inspector.pipeline import Inspector
from inspector.settings import InspectorSettings
from tests.inspector._checkpoints import save_ct, save_rgb
from tests.models.vlm.test_gemini import FINDING, KEY, StubGemini, _reply

VERDICTS = ["normal", "internal_defect", "external_defect", "composite_defect"]
ANSWER = {**FINDING, "verdict": "composite_defect", "confidence": 0.8, "ct_class": "cell_porosity"}


@pytest.fixture(scope="module")
def pairs40(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth40")
    assert main(["synth", "--out", str(out), "--batteries", "40", "--size", "64",
                 "--ct-per-battery", "1", "--rgb-per-battery", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def inspector(tmp_path_factory) -> Inspector:
    folder = tmp_path_factory.mktemp("ckpt")
    return Inspector.load(InspectorSettings(ct_checkpoint=save_ct(folder), rgb_checkpoint=save_rgb(folder)))


def truth_by_pair(data: Path) -> dict[str, str]:
    """The true verdict of every pair, read straight from manifest.csv (not through the bench)."""
    flags: dict[str, dict[str, bool]] = {}
    with (data / "manifest.csv").open() as fh:
        for row in csv.DictReader(fh):
            flags.setdefault(row["pair_id"], {})[row["modality"]] = row["is_defect"] == "1"
    return {p: VERDICTS[int(f["ct"]) + 2 * int(f["rgb"])] for p, f in flags.items()}


def by_name(result: dict) -> dict[str, dict]:
    return {s["name"]: s for s in result["systems"]}


def test_verdict_metrics_against_a_hand_computed_matrix():
    truth = ["normal", "normal", "normal", "internal_defect", "internal_defect", "external_defect",
             "composite_defect", "composite_defect"]
    pred = ["normal", "internal_defect", None, "internal_defect", "internal_defect", "external_defect",
            "composite_defect", "external_defect"]
    m = verdict_metrics(truth, pred)
    assert m["confusion_matrix"]["rows_true_cols_predicted"] == [
        [1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]
    ]
    assert m["accuracy"] == pytest.approx(5 / 8, abs=1e-4)
    # per class F1: normal P=1 R=1/3 -> 0.5; internal P=2/3 R=1 -> 0.8; external P=1/2 R=1 -> 2/3;
    # composite P=1 R=1/2 -> 2/3
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3 + 2 / 3) / 4, abs=1e-4)
    assert m["defect_recall"] == pytest.approx(5 / 5)  # every true defect was called some defect
    assert m["normal_recall"] == pytest.approx(1 / 3, abs=1e-4)


def test_cohen_kappa_hand_computed():
    a = ["normal", "normal", "internal_defect", "internal_defect"]
    b = ["normal", "internal_defect", "internal_defect", "internal_defect"]
    # p_o = 3/4, p_e = (1/2)(1/4) + (1/2)(3/4) = 1/2 -> kappa = 0.5
    assert cohen_kappa(a, b) == (0.5, 4)
    assert cohen_kappa(a, [None] * 4) == (None, 0)


def test_offline_bench_matches_a_hand_computed_confusion_matrix(pairs40, inspector):
    result = run_compare(pairs40, split="all", vlms="findings_writer", vlgs="model_boxes",
                         vlm_mode="evidence", inspector=inspector)
    assert result["n_pairs"] == 40
    systems = by_name(result)
    assert set(systems) == {"inspector", "findings_writer", "model_boxes", "findings_writer+model_boxes"}
    assert [systems[n]["kind"] for n in systems] == ["inspector", "vlm", "vlg", "combination"]
    # the inspector's verdicts computed here, directly, pair by pair
    truth = truth_by_pair(pairs40)
    root = pairs40
    rows: dict[str, dict[str, str]] = {}
    with (root / "manifest.csv").open() as fh:
        for row in csv.DictReader(fh):
            rows.setdefault(row["pair_id"], {})[row["modality"]] = row["image_path"]
            if row["modality"] == "ct":
                rows[row["pair_id"]]["meta"] = (row["battery_type"], row["axis"])
    matrix = [[0] * 4 for _ in VERDICTS]
    for pair, paths in rows.items():
        ct, rgb = load_image(root / paths["ct"], "ct"), load_image(root / paths["rgb"], "rgb")
        ev = inspector.analyse(ct, rgb, *paths["meta"])
        matrix[VERDICTS.index(truth[pair])][VERDICTS.index(ev.verdict.verdict)] += 1
    inspector_row = systems["inspector"]
    assert inspector_row["confusion_matrix"]["rows_true_cols_predicted"] == matrix
    assert inspector_row["accuracy"] == pytest.approx(sum(matrix[i][i] for i in range(4)) / 40, abs=1e-4)
    defects = sum(sum(r) for r in matrix[1:])
    assert inspector_row["defect_recall"] == pytest.approx(
        sum(matrix[i][j] for i in range(1, 4) for j in range(1, 4)) / defects, abs=1e-4
    )
    # the offline writer and boxes read the inspector's evidence: they agree with it fully
    for name in ("findings_writer", "model_boxes", "findings_writer+model_boxes"):
        assert systems[name]["confusion_matrix"] == inspector_row["confusion_matrix"], name
        assert systems[name]["errors"] == 0 and systems[name]["tokens"] is None
    assert all(row["kappa"] == 1.0 and row["n"] == 40 for row in result["agreement"])
    assert len(result["agreement"]) == 6
    for key in ("box_recall_iou30", "latency_ms_p50", "latency_ms_p95", "macro_f1", "normal_recall"):
        assert key in inspector_row


@pytest.fixture()
def gemini(monkeypatch, request):
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    server = StubGemini(request.param)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
    yield server
    server.close()


GEMINI_OPTIONS = {"gemini": {"timeout_s": 0.5, "retries": 0}}
OK = (200, _reply(json.dumps(ANSWER)), 0)
ERRORS = [
    (429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}, 0),
    (500, {"error": {"code": 500, "message": "internal", "status": "INTERNAL"}}, 0),
    (200, _reply("not json at all"), 0),
    (200, _reply(json.dumps(ANSWER)), 1.5),  # answers after the 0.5 s timeout
]


@pytest.mark.parametrize("gemini", [[*ERRORS, OK]], indirect=True)
def test_gemini_errors_are_counted_and_the_bench_goes_on(pairs40, inspector, gemini, tmp_path):
    cache = tmp_path / "cache"
    result = run_compare(pairs40, split="all", vlms="gemini", vlgs="model_boxes", vlm_mode="blind",
                         inspector=inspector, backend_options=GEMINI_OPTIONS, cache_dir=cache)
    g = by_name(result)["gemini"]
    assert g["mode"] == "blind" and g["n"] == 40 and g["errors"] == 4
    messages = " ".join(g["error_messages"])
    for text in ("HTTP 429", "HTTP 500", "not a valid finding", "did not answer within 0.5 s"):
        assert text in messages
    # hand-computed: every answered pair is called composite, the 4 failures are wrong
    truth = truth_by_pair(pairs40)
    answered = [item["id"] for item in result["items"] if item["predicted"]["gemini"] is not None]
    assert len(answered) == 36
    counts = Counter(truth[i] for i in answered)
    expected = [[0, 0, 0, counts[v]] for v in VERDICTS]
    assert g["confusion_matrix"]["rows_true_cols_predicted"] == expected
    assert g["accuracy"] == pytest.approx(counts["composite_defect"] / 40, abs=1e-4)
    assert g["normal_recall"] == 0.0
    assert g["tokens"] > 36 * 2 * 258  # two images per paid call, plus the text
    assert by_name(result)["gemini+model_boxes"]["errors"] == 4
    # blind: only the two images and no inspector evidence reached the API
    for sent in gemini.requests:
        parts = sent["body"]["contents"][0]["parts"]
        assert sum("inlineData" in p for p in parts) == 2
        prompt = next(p["text"] for p in parts if "text" in p)
        assert "judge from the images alone" in prompt
        assert "Combined verdict" not in prompt and "CT classifier" not in prompt and "anomaly score" not in prompt
    # the rerun reads the 36 answers from the cache and asks only for the 4 that failed
    before = len(gemini.requests)
    again = by_name(run_compare(pairs40, split="all", vlms="gemini", vlgs="none", vlm_mode="blind",
                                inspector=inspector, backend_options=GEMINI_OPTIONS, cache_dir=cache))
    assert len(gemini.requests) - before == 4
    assert again["gemini"]["cached"] == 36 and again["gemini"]["errors"] == 0


@pytest.mark.parametrize("gemini", [[OK]], indirect=True)
def test_evidence_mode_sends_the_evidence_and_paid_calls_can_wait_for_a_defect(pairs40, inspector, gemini):
    result = run_compare(pairs40, split="all", vlms="gemini", vlgs="none", vlm_mode="evidence", limit=6,
                         inspector=inspector, backend_options=GEMINI_OPTIONS, paid_only_if_defect=True)
    flagged = [i for i in result["items"] if i["predicted"]["inspector"] != "normal"]
    assert len(gemini.requests) == len(flagged)
    assert by_name(result)["gemini"]["skipped"] == 6 - len(flagged)
    for sent in gemini.requests:
        prompt = next(p["text"] for p in sent["body"]["contents"][0]["parts"] if "text" in p)
        assert "Combined verdict" in prompt


def test_cli_writes_json_and_report(pairs40, tmp_path, capsys):
    ckpt = tmp_path / "ckpt"
    ct, rgb = save_ct(ckpt), save_rgb(ckpt)
    out = tmp_path / "cmp.json"
    code = main(["compare", "--data", str(pairs40), "--split", "all", "--limit", "8", "--vlm", "findings_writer",
                 "--vlg", "model_boxes", "--json", str(out), "--report", str(tmp_path / "rep"), "--no-cache",
                 "--ct-checkpoint", str(ct), "--rgb-checkpoint", str(rgb)])
    assert code == 0
    result = json.loads(out.read_text())
    assert {s["name"] for s in result["systems"]} >= {"inspector", "findings_writer+model_boxes"}
    assert all(s["n"] == 8 for s in result["systems"])
    assert "| inspector | inspector |" in (tmp_path / "rep" / "compare.md").read_text()
    assert "plotly" in (tmp_path / "rep" / "compare.html").read_text()
    assert "| name | kind |" in capsys.readouterr().out


def test_backend_options_on_the_command_line():
    from core.errors import ConfigError
    from inspector.commands.compare import parse_options

    assert parse_options(["gemini.timeout_s=30", "gemini.model=gemini-2.5-flash", "qwen3_vl.model_dir=/w/q"]) == {
        "gemini": {"timeout_s": 30, "model": "gemini-2.5-flash"},
        "qwen3_vl": {"model_dir": "/w/q"},
    }
    with pytest.raises(ConfigError, match="BACKEND.KEY=VALUE"):
        parse_options(["timeout_s=30"])
