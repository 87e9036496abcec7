"""Korean / English strings for every label of the app and the reports.

Every user-visible string lives in :data:`STRINGS` under a dotted key with one entry per
language, so a missing translation is a test failure rather than a mixed-language page.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("ko", "en")
DEFAULT_LANGUAGE = "ko"

VERDICTS: tuple[str, ...] = ("normal", "internal_defect", "external_defect", "composite_defect")

STRINGS: dict[str, dict[str, str]] = {
    # app shell
    "app.title": {"ko": "배터리 검사 AI", "en": "Battery Inspection AI"},
    "app.caption": {
        "ko": "CT(내부) + RGB(외부) 이미지로 배터리를 검사하고 판정 근거를 보여줍니다.",
        "en": "Inspects a battery from a CT slice (inside) and an RGB photo (outside) and shows why.",
    },
    "app.unexpected_error": {
        "ko": "예기치 않은 오류가 발생했습니다: {error}. 앱은 계속 사용할 수 있습니다.",
        "en": "An unexpected error occurred: {error}. The app is still usable.",
    },
    "auth.prompt": {"ko": "검사하려면 로그인하세요.", "en": "Log in to inspect."},
    "auth.failed": {"ko": "사용자 이름 또는 비밀번호가 올바르지 않습니다.", "en": "Wrong user name or password."},
    "auth.signed_in": {"ko": "로그인: {name} ({role})", "en": "Signed in: {name} ({role})"},
    "auth.logout": {"ko": "로그아웃", "en": "Log out"},
    "auth.role_operator": {"ko": "작업자", "en": "operator"},
    "auth.role_engineer": {"ko": "엔지니어", "en": "engineer"},
    "history.col_user": {"ko": "사용자", "en": "User"},
    "page.inspect": {"ko": "검사", "en": "Inspect"},
    "page.summary": {"ko": "결과 요약", "en": "Summary"},
    "page.detail": {"ko": "상세 분석", "en": "Detail"},
    "page.history": {"ko": "검사 이력", "en": "History"},
    "page.models": {"ko": "모델 카드", "en": "Models"},
    "page.batch": {"ko": "일괄 검사", "en": "Batch"},
    "page.compare": {"ko": "시스템 비교", "en": "Compare"},
    "page.adapt": {"ko": "내 라인에 맞추기", "en": "Adapt to my line"},
    # sidebar
    "sidebar.language": {"ko": "언어", "en": "Language"},
    "sidebar.advanced": {
        "ko": ":material/settings: 고급 설정",
        "en": ":material/settings: Advanced settings",
    },
    "sidebar.ct_model": {"ko": "CT 모델", "en": "CT model"},
    "sidebar.no_ct_models": {
        "ko": "CT 체크포인트가 없습니다 ({path}).",
        "en": "No CT checkpoints found ({path}).",
    },
    "sidebar.rgb_model": {"ko": "RGB 모델", "en": "RGB model"},
    "sidebar.no_rgb_models": {
        "ko": "RGB 체크포인트가 없습니다 ({path}).",
        "en": "No RGB checkpoints found ({path}).",
    },
    "sidebar.vlm": {"ko": "VLM 백엔드", "en": "VLM backend"},
    "sidebar.vlg": {"ko": "VLG 백엔드", "en": "VLG backend"},
    "sidebar.vlm_mode": {"ko": "VLM 모드", "en": "VLM mode"},
    "sidebar.vlm_mode_help": {
        "ko": "블라인드: 이미지와 배터리 정보만 보냄 (독립 판정). 근거: 검사 모델의 맵, 점수, 판정도 보냄.",
        "en": "Blind: only the images and battery metadata (an independent judge). "
        "Evidence: also the inspector's maps, scores and verdict.",
    },
    "vlm_mode.blind": {"ko": "블라인드", "en": "blind"},
    "vlm_mode.evidence": {"ko": "근거 제공", "en": "evidence"},
    "sidebar.none_backend": {"ko": "사용 안 함", "en": "none"},
    "sidebar.unavailable": {"ko": "사용 불가", "en": "Unavailable"},
    "sidebar.unavailable_reason": {"ko": "{name}: {reason}", "en": "{name}: {reason}"},
    "sidebar.ct_threshold": {"ko": "CT 불량 임계값", "en": "CT defect threshold"},
    "sidebar.ct_threshold_help": {
        "ko": "불량 확률이 이 값 이상이면 CT를 불량으로 판정합니다. 0이면 모델 카드의 값(없으면 0.5)을 씁니다.",
        "en": "CT is called defective when its defect probability reaches this value; 0 uses the model card's (else 0.5).",
    },
    "sidebar.rgb_threshold": {"ko": "RGB 이상 점수 임계값", "en": "RGB anomaly threshold"},
    "sidebar.rgb_threshold_help": {
        "ko": "0이면 모델 카드의 임계값(Youden J)을 사용합니다.",
        "en": "0 uses the threshold from the model card (Youden's J).",
    },
    "sidebar.policy": {"ko": "판정 정책", "en": "Decision policy"},
    "sidebar.policy_help": {
        "ko": "OR: 한쪽이라도 불량이면 불량. AND: 두 모델이 모두 불량일 때만 불량.",
        "en": "OR: defective if either model says so. AND: only if both models agree.",
    },
    "sidebar.timeout": {"ko": "VLM/VLG 제한 시간 (초)", "en": "VLM/VLG timeout (s)"},
    "sidebar.runtime": {"ko": "추론 런타임", "en": "Inference runtime"},
    "sidebar.runtime_help": {
        "ko": "모델을 실행할 엔진입니다. ONNX Runtime은 CPU에서 더 빠르고 결과는 torch와 같습니다(1e-4 이내). "
        "처음 선택하면 모델을 변환하느라 몇 초 걸립니다. ONNX int8은 CT 모델을 8비트로 양자화해 약 2배 더 "
        "빠르며, 확률이 최대 0.1 정도 달라질 수 있습니다.",
        "en": "The engine that runs the models. ONNX Runtime is faster on a CPU and gives the same "
        "results as torch (within 1e-4); the first switch takes a few seconds to convert the models. "
        "ONNX int8 quantises the CT model to 8 bits: about twice as fast again, probabilities may "
        "move by up to about 0.1.",
    },
    "runtime.torch": {"ko": "PyTorch", "en": "PyTorch"},
    "runtime.onnx": {"ko": "ONNX Runtime", "en": "ONNX Runtime"},
    "runtime.onnx_int8": {"ko": "ONNX int8", "en": "ONNX int8"},
    "sidebar.auto_run": {"ko": "두 이미지가 도착하면 바로 검사", "en": "Inspect as soon as both images arrive"},
    "sidebar.auto_run_help": {
        "ko": "CT와 RGB 이미지가 모두 업로드되면 실행 버튼을 누르지 않아도 검사를 시작합니다.",
        "en": "Start the inspection when both the CT and the RGB image have been uploaded, without "
        "waiting for the Run button.",
    },
    "sidebar.checkpoints_dir": {"ko": "체크포인트 폴더: {path}", "en": "Checkpoints folder: {path}"},
    # inspect page
    "inspect.title": {
        "ko": ":material/upload_file: 배터리 검사",
        "en": ":material/upload_file: Inspect a battery",
    },
    "inspect.source": {"ko": "입력 방식", "en": "Input"},
    "inspect.source_upload": {"ko": "이미지 업로드", "en": "Upload images"},
    "inspect.source_sample": {"ko": "샘플 이미지", "en": "Bundled sample"},
    "inspect.ct_upload": {"ko": "CT 이미지 (내부)", "en": "CT image (inside)"},
    "inspect.rgb_upload": {"ko": "RGB 이미지 (외부)", "en": "RGB image (outside)"},
    "inspect.sample": {"ko": "샘플 선택", "en": "Sample"},
    "inspect.no_samples": {
        "ko": "샘플 이미지가 없습니다 (assets/manifest.csv).",
        "en": "No bundled samples found (assets/manifest.csv).",
    },
    "inspect.metadata": {"ko": "CT 메타데이터", "en": "CT metadata"},
    "inspect.battery_type": {"ko": "배터리 종류", "en": "Battery type"},
    "inspect.axis": {"ko": "촬영 축", "en": "Axis"},
    "inspect.run": {"ko": "검사 실행", "en": "Run inspection"},
    "inspect.need_image": {
        "ko": "CT 또는 RGB 이미지를 하나 이상 선택하세요.",
        "en": "Choose at least one CT or RGB image.",
    },
    "inspect.upload_missing": {
        "ko": "{modality} 이미지 '{name}'이(가) 검사 요청에 들어가지 않았습니다 (업로드 중이거나 바뀌었습니다). "
        "업로드가 끝난 것을 확인하고 다시 실행하세요. 검사는 실행되지 않았습니다.",
        "en": "The {modality} image '{name}' is not in the inspection request (still uploading or just "
        "changed). Check that the upload has finished and press Run again; nothing was inspected.",
    },
    "inspect.status_running": {"ko": "검사 중…", "en": "Inspecting…"},
    "inspect.status_loading": {"ko": "이미지 확인 중", "en": "Validating images"},
    "inspect.status_models": {"ko": "모델 준비 중", "en": "Loading models"},
    "inspect.status_inspector": {"ko": "통합 검사기 실행 중", "en": "Running the inspector"},
    "inspect.status_done": {"ko": "판정 완료: {verdict}", "en": "Verdict ready: {verdict}"},
    "inspect.status_failed": {"ko": "검사 실패", "en": "Inspection failed"},
    "inspect.go_summary": {"ko": "결과 요약 보기", "en": "Open the summary"},
    "inspect.no_checkpoints": {
        "ko": "체크포인트가 없어 검사할 수 없습니다: {path} 에 ct_*/rgb_* 모델을 두세요.",
        "en": "No checkpoints to inspect with: put ct_*/rgb_* models in {path}.",
    },
    "inspect.preview": {"ko": "미리보기", "en": "Preview"},
    # compare page
    "compare.title": {"ko": ":material/compare: 시스템 비교", "en": ":material/compare: Compare systems"},
    "compare.help": {
        "ko": "검사 모델, VLM, VLG와 그 조합을 라벨이 있는 CT+RGB 쌍으로 비교합니다 (python -m inspector compare와 같은 벤치).",
        "en": "Compares the inspector, VLMs, VLGs and their combinations on labelled CT+RGB pairs "
        "(the same bench as python -m inspector compare).",
    },
    "compare.data": {"ko": "데이터셋 폴더 (manifest.csv)", "en": "Dataset folder (manifest.csv)"},
    "compare.vlms": {"ko": "VLM", "en": "VLMs"},
    "compare.vlgs": {"ko": "VLG", "en": "VLGs"},
    "compare.split": {"ko": "분할", "en": "Split"},
    "compare.limit": {"ko": "최대 쌍 수 (0 = 전체)", "en": "At most N pairs (0 = all)"},
    "compare.paid_only": {
        "ko": "유료 VLM은 검사 모델이 불량으로 판정한 경우에만 호출",
        "en": "Call a paid VLM only when the inspector's verdict is not normal",
    },
    "compare.run": {"ko": "비교 실행", "en": "Run the comparison"},
    "compare.progress": {"ko": "{done} / {total} 쌍", "en": "{done} / {total} pairs"},
    "compare.table": {"ko": "결과: {n}쌍, VLM 모드 {mode}", "en": "Results: {n} pairs, VLM mode {mode}"},
    "compare.confusion": {"ko": "시스템별 혼동 행렬", "en": "Confusion matrix per system"},
    "compare.agreement": {"ko": "시스템 간 일치도", "en": "Agreement between systems"},
    "compare.kappa": {"ko": "Cohen's kappa", "en": "Cohen's kappa"},
    # summary page
    "summary.title": {"ko": ":material/dashboard: 결과 요약", "en": ":material/dashboard: Summary"},
    "summary.systems": {"ko": "세 시스템의 판정", "en": "The three systems' verdicts"},
    "summary.col_system": {"ko": "시스템", "en": "system"},
    "summary.col_backend": {"ko": "백엔드", "en": "backend"},
    "summary.col_mode": {"ko": "모드", "en": "mode"},
    "summary.col_verdict": {"ko": "판정", "en": "verdict"},
    "summary.col_confidence": {"ko": "신뢰도", "en": "confidence"},
    "summary.col_agreement": {"ko": "검사기와 일치", "en": "agrees with the inspector"},
    "summary.col_latency": {"ko": "지연 (ms)", "en": "latency (ms)"},
    "summary.agree_yes": {"ko": "일치", "en": "yes"},
    "summary.agree_no": {"ko": "불일치", "en": "no"},
    "summary.disagreement": {
        "ko": "시스템 간 판정이 다릅니다: 강조된 행을 확인하세요.",
        "en": "The systems disagree: check the highlighted rows.",
    },
    "summary.vlg_threshold": {"ko": "VLG 점수 임계값", "en": "VLG score threshold"},
    "summary.vlg_threshold_help": {
        "ko": "이 점수 미만의 박스를 숨깁니다 (다시 실행하지 않음). VLG 판정도 이 값으로 다시 계산합니다.",
        "en": "Hides boxes scoring below this value (no re-run); the VLG verdict is recomputed with it.",
    },
    "summary.legend": {
        "ko": "Grad-CAM / 에러 맵 색상: 파랑 = 낮음, 빨강 = 높음 (모델이 주목하거나 정상과 다른 곳)",
        "en": "Grad-CAM / error-map colours: blue = low, red = high (where the model looked or the photo "
        "differs from normal batteries)",
    },
    "summary.ct_defect_probability": {"ko": "CT 불량 확률", "en": "CT defect probability"},
    "summary.engineer_note": {
        "ko": "AI 판정은 참고용입니다. 최종 판정은 담당 엔지니어가 내립니다.",
        "en": "The AI verdict is advice: the final decision rests with the engineer.",
    },
    "summary.new_inspection": {"ko": "새 검사", "en": "New inspection"},
    "summary.ct_class": {"ko": "CT 클래스 (제로샷)", "en": "CT class (zero-shot)"},
    "summary.rgb_class": {"ko": "RGB 클래스 (제로샷)", "en": "RGB class (zero-shot)"},
    "summary.vlm_boxes": {"ko": "VLM 박스", "en": "VLM boxes"},
    "summary.defect_info": {"ko": "결함 정보", "en": "Defect information"},
    "summary.description": {"ko": "설명", "en": "Description"},
    "summary.severity": {"ko": "심각도", "en": "Severity"},
    "summary.cause": {"ko": "추정 원인", "en": "Probable cause"},
    "summary.action": {"ko": "권장 조치", "en": "Action"},
    "summary.empty": {
        "ko": "아직 검사 결과가 없습니다. 검사 페이지에서 이미지를 실행하세요.",
        "en": "No inspection yet. Run one on the Inspect page.",
    },
    "summary.inspector": {
        "ko": ":material/biotech: 통합 검사기 (CNN+AE)",
        "en": ":material/biotech: Inspector (CNN+AE)",
    },
    "summary.vlm": {"ko": ":material/smart_toy: VLM 소견", "en": ":material/smart_toy: VLM finding"},
    "summary.vlg": {
        "ko": ":material/center_focus_strong: VLG 위치 검출",
        "en": ":material/center_focus_strong: VLG grounding",
    },
    "summary.ct_attention": {"ko": "CT 어텐션 + 결함 박스", "en": "CT attention + defect boxes"},
    "summary.rgb_error": {"ko": "RGB 에러 맵", "en": "RGB error map"},
    "summary.probabilities": {"ko": "클래스 확률", "en": "Class probabilities"},
    "summary.ae_score": {"ko": "AE 점수 / 임계값", "en": "AE score / threshold"},
    "summary.no_ct": {"ko": "CT 이미지 없음", "en": "No CT image"},
    "summary.no_rgb": {"ko": "RGB 이미지 없음", "en": "No RGB image"},
    "summary.pending": {"ko": "{backend} 실행 중…", "en": "{backend} running…"},
    "summary.failed": {"ko": "{backend} 실패: {error}", "en": "{backend} failed: {error}"},
    "summary.disabled": {"ko": "사용하지 않음", "en": "Not run"},
    "summary.no_boxes": {"ko": "검출된 박스 없음", "en": "No boxes found"},
    "summary.latency": {"ko": "{ms:.0f} ms", "en": "{ms:.0f} ms"},
    "summary.report": {
        "ko": ":material/assignment: 최종 진단 리포트",
        "en": ":material/assignment: Final report",
    },
    "summary.verdict": {"ko": "판정", "en": "Verdict"},
    "summary.confidence": {"ko": "신뢰도", "en": "Confidence"},
    "summary.contributions": {"ko": "모델별 기여", "en": "What each model contributed"},
    "summary.download_json": {"ko": "JSON 리포트", "en": "JSON report"},
    "summary.downloads_wait": {
        "ko": "VLM/VLG 분석이 끝나면 리포트를 내려받을 수 있습니다.",
        "en": "The reports can be downloaded once the VLM/VLG have finished.",
    },
    "summary.download_md": {"ko": "Markdown 리포트", "en": "Markdown report"},
    "summary.download_pdf": {"ko": "PDF 리포트", "en": "PDF report"},
    "summary.ct_contrib": {
        "ko": "CT CNN: {label} ({prob:.0%}) → {state}",
        "en": "CT CNN: {label} ({prob:.0%}) → {state}",
    },
    "summary.rgb_contrib": {
        "ko": "RGB AE: 점수 {score:.4g} / 임계값 {threshold:.4g} → {state}",
        "en": "RGB AE: score {score:.4g} vs threshold {threshold:.4g} → {state}",
    },
    "summary.vlm_contrib": {"ko": "VLM ({backend}): {summary}", "en": "VLM ({backend}): {summary}"},
    "summary.vlg_contrib": {
        "ko": "VLG ({backend}): 박스 {n}개",
        "en": "VLG ({backend}): {n} box(es)",
    },
    "summary.not_available": {"ko": "결과 없음", "en": "no result"},
    "summary.state_defect": {"ko": "불량", "en": "defect"},
    "summary.state_normal": {"ko": "정상", "en": "normal"},
    "summary.verdict_note": {
        "ko": "최종 판정은 통합 검사기 기준이며 VLM/VLG는 판정을 바꾸지 않습니다.",
        "en": "The verdict comes from the inspector; VLM/VLG never change it.",
    },
    # finding fields
    "finding.defect_detected": {"ko": "결함 여부", "en": "Defect detected"},
    "finding.defect_type": {"ko": "결함 유형", "en": "Defect type"},
    "finding.location": {"ko": "위치", "en": "Location"},
    "finding.severity": {"ko": "심각도", "en": "Severity"},
    "finding.probable_cause": {"ko": "추정 원인", "en": "Probable cause"},
    "finding.recommended_action": {"ko": "권장 조치", "en": "Recommended action"},
    "finding.summary": {"ko": "요약", "en": "Summary"},
    "finding.yes": {"ko": "예", "en": "yes"},
    "finding.no": {"ko": "아니오", "en": "no"},
    # detail page
    "detail.title": {"ko": ":material/search_insights: 상세 분석", "en": ":material/search_insights: Detail"},
    "detail.finding": {"ko": "AI 소견서 (VLM)", "en": "AI finding (VLM)"},
    "detail.charts": {"ko": "확률 및 점수", "en": "Probabilities and scores"},
    "detail.prob_chart": {"ko": "CT 클래스 확률", "en": "CT class probabilities"},
    "detail.score_chart": {"ko": "RGB 이상 점수", "en": "RGB anomaly score"},
    "detail.timings_chart": {"ko": "모델별 추론 시간 (ms)", "en": "Per-model inference time (ms)"},
    "detail.log": {"ko": "추론 로그", "en": "Inference log"},
    "detail.raw_json": {"ko": "원본 JSON", "en": "Raw JSON"},
    "detail.class": {"ko": "클래스", "en": "Class"},
    "detail.probability": {"ko": "확률", "en": "Probability"},
    "detail.model": {"ko": "모델", "en": "Model"},
    "detail.elapsed": {"ko": "경과 (s)", "en": "Elapsed (s)"},
    "detail.message": {"ko": "내용", "en": "Message"},
    "detail.time_ms": {"ko": "시간 (ms)", "en": "Time (ms)"},
    "detail.score": {"ko": "점수", "en": "Score"},
    "detail.threshold": {"ko": "임계값", "en": "Threshold"},
    "detail.boxes": {"ko": "결함 박스", "en": "Defect boxes"},
    # history page
    "history.title": {"ko": ":material/history: 검사 이력", "en": ":material/history: History"},
    "history.empty": {"ko": "저장된 검사가 없습니다.", "en": "No stored inspections."},
    "history.filter_verdict": {"ko": "판정 필터", "en": "Filter by verdict"},
    "history.filter_text": {"ko": "파일 이름 검색", "en": "Search file name"},
    "history.filter_min_conf": {"ko": "최소 신뢰도", "en": "Minimum confidence"},
    "history.count": {"ko": "{n}건", "en": "{n} inspection(s)"},
    "history.reopen": {"ko": "열기", "en": "Reopen"},
    "history.select": {"ko": "검사 선택", "en": "Choose an inspection"},
    "history.col_id": {"ko": "ID", "en": "ID"},
    "history.col_time": {"ko": "시각", "en": "Time"},
    "history.col_verdict": {"ko": "판정", "en": "Verdict"},
    "history.col_confidence": {"ko": "신뢰도", "en": "Confidence"},
    "history.col_sources": {"ko": "파일", "en": "Files"},
    "history.col_ct": {"ko": "CT 결과", "en": "CT result"},
    "history.col_rgb": {"ko": "RGB 점수", "en": "RGB score"},
    "history.database": {"ko": "데이터베이스: {url}", "en": "Database: {url}"},
    "history.unavailable": {
        "ko": "이력 저장소를 열 수 없습니다: {error}",
        "en": "History store unavailable: {error}",
    },
    # models page
    "models.title": {
        "ko": ":material/model_training: 모델 카드",
        "en": ":material/model_training: Model cards",
    },
    "models.none": {"ko": "{path} 에 모델 카드가 없습니다.", "en": "No model cards in {path}."},
    "models.default": {"ko": "기본 모델", "en": "default"},
    "models.architecture": {"ko": "아키텍처", "en": "Architecture"},
    "models.task": {"ko": "작업", "en": "Task"},
    "models.input_size": {"ko": "입력 크기", "en": "Input size"},
    "models.threshold": {"ko": "임계값", "en": "Threshold"},
    "models.created": {"ko": "생성 시각", "en": "Created"},
    "models.metrics": {"ko": "평가 지표", "en": "Evaluation metrics"},
    "models.per_class": {"ko": "클래스별 지표", "en": "Per-class metrics"},
    "models.confusion": {"ko": "혼동 행렬", "en": "Confusion matrix"},
    "models.roc": {"ko": "ROC 곡선", "en": "ROC curve"},
    "models.predicted": {"ko": "예측", "en": "Predicted"},
    "models.actual": {"ko": "실제", "en": "Actual"},
    "models.metric": {"ko": "지표", "en": "Metric"},
    "models.value": {"ko": "값", "en": "Value"},
    "models.card_json": {"ko": "카드 JSON", "en": "Card JSON"},
    "models.artifacts": {"ko": "평가 자료", "en": "Evaluation artefacts"},
    "models.reports": {"ko": "평가 리포트", "en": "Evaluation reports"},
    "models.ablation": {"ko": "GAIN-MTL 절제 실험", "en": "GAIN-MTL ablation"},
    "models.ablation_missing": {
        "ko": "절제 실험 결과가 아직 없습니다 ({path}).",
        "en": "No ablation results yet ({path}).",
    },
    "models.fpr": {"ko": "위양성률", "en": "False positive rate"},
    "models.tpr": {"ko": "재현율", "en": "True positive rate"},
    "models.calibration": {"ko": "판정 신뢰도 보정", "en": "Verdict confidence calibration"},
    "models.calibration_missing": {
        "ko": "보정 파일이 없어 판정 신뢰도는 보정되지 않은 값입니다 (python -m inspector calibrate).",
        "en": "No calibration file: the verdict confidence is uncalibrated (python -m inspector calibrate).",
    },
    "models.calibration_caption": {
        "ko": "{fit_data} ({fit_n}쌍)에서 적합, {eval_data} {eval_split} ({eval_n}쌍)에서 평가 · ECE {ece_raw:.3f} → {ece_cal:.3f} · 대상 모델: {models}",
        "en": "Fitted on {fit_data} ({fit_n} pairs), evaluated on {eval_data} {eval_split} ({eval_n} pairs) · ECE {ece_raw:.3f} → {ece_cal:.3f} · for {models}",
    },
    "models.raw": {"ko": "보정 전", "en": "raw"},
    "models.calibrated": {"ko": "보정 후", "en": "calibrated"},
    "models.confidence": {"ko": "판정 신뢰도", "en": "Verdict confidence"},
    "models.fraction_correct": {"ko": "정답 비율", "en": "Fraction correct"},
    # batch page
    "batch.title": {"ko": ":material/stacks: 일괄 검사", "en": ":material/stacks: Batch inspection"},
    "batch.upload": {
        "ko": "이미지 여러 장 또는 ZIP 파일",
        "en": "Several images or a ZIP file",
    },
    "batch.help": {
        "ko": "흑백 이미지는 CT, 컬러 이미지는 RGB로 검사합니다. 파일 이름이 같은 *_ct / *_rgb 는 한 배터리로 묶습니다.",
        "en": "Grayscale images are inspected as CT, colour images as RGB; files named *_ct / *_rgb with the same stem are paired.",
    },
    "batch.run": {"ko": "일괄 검사 실행", "en": "Run batch"},
    "batch.progress": {"ko": "{done}/{total} 검사 완료", "en": "{done}/{total} inspected"},
    "batch.download": {"ko": "CSV 다운로드", "en": "Download CSV"},
    "batch.col_item": {"ko": "항목", "en": "Item"},
    "batch.col_ct": {"ko": "CT 파일", "en": "CT file"},
    "batch.col_rgb": {"ko": "RGB 파일", "en": "RGB file"},
    "batch.col_verdict": {"ko": "판정", "en": "Verdict"},
    "batch.col_confidence": {"ko": "신뢰도", "en": "Confidence"},
    "batch.col_error": {"ko": "오류", "en": "Error"},
    "batch.no_files": {"ko": "검사할 이미지가 없습니다.", "en": "No images to inspect."},
    "batch.too_many": {
        "ko": "파일이 너무 많습니다: 최대 {n}개까지 검사합니다.",
        "en": "Too many files: at most {n} are inspected.",
    },
    # adapt to my line
    "adapt.title": {"ko": ":material/tune: 내 라인에 맞추기", "en": ":material/tune: Adapt to my line"},
    "adapt.engineers_only": {
        "ko": "이 페이지는 엔지니어만 사용할 수 있습니다. 모델을 바꾸려면 엔지니어에게 문의하세요.",
        "en": "This page is for engineers only. Ask an engineer to change the models.",
    },
    "adapt.help": {
        "ko": "라인 카메라로 찍은 정상 배터리 사진 20~200장으로 RGB 검출기를 학습하고, 원하는 오경보율로 "
        "임계값을 정합니다. 불량 사진을 함께 주면 Youden J로 임계값을 정하고 검출률도 보여줍니다.",
        "en": "Fit an RGB detector on 20-200 photos of good batteries from your line's camera, with the "
        "false-alarm rate you choose. With defect photos too, the threshold is set by Youden's J and "
        "the defect recall is shown.",
    },
    "adapt.source": {"ko": "사진 위치", "en": "Photos from"},
    "adapt.source_upload": {"ko": "업로드 (ZIP 또는 사진)", "en": "Upload (ZIP or photos)"},
    "adapt.source_folder": {"ko": "서버 폴더", "en": "Server folder"},
    "adapt.normals_upload": {
        "ko": "정상 사진 (ZIP 또는 여러 장)",
        "en": "Normal photos (a ZIP or several photos)",
    },
    "adapt.defects_upload": {
        "ko": "불량 사진 (선택, ZIP 또는 여러 장)",
        "en": "Defect photos (optional, a ZIP or several photos)",
    },
    "adapt.folder_root": {
        "ko": "이 폴더 아래의 경로만 사용할 수 있습니다: {path}",
        "en": "Only paths under this folder can be used: {path}",
    },
    "adapt.normals_folder": {"ko": "정상 사진 폴더", "en": "Folder of normal photos"},
    "adapt.defects_folder": {"ko": "불량 사진 폴더 (선택)", "en": "Folder of defect photos (optional)"},
    "adapt.no_detectors": {
        "ko": "학습할 수 있는 특징 기반 검출기가 등록되어 있지 않습니다.",
        "en": "No feature-based detector that can be fitted is registered.",
    },
    "adapt.detector": {"ko": "검출기", "en": "Detector"},
    "adapt.false_alarm": {"ko": "목표 오경보율", "en": "Target false-alarm rate"},
    "adapt.false_alarm_help": {
        "ko": "정상 사진 중 불량으로 표시되어도 되는 비율 (불량 사진이 없을 때 임계값을 정함).",
        "en": "Share of good parts that may be flagged (sets the threshold when no defect photos are given).",
    },
    "adapt.fit": {"ko": "학습", "en": "Fit"},
    "adapt.progress_read": {"ko": "사진을 읽는 중...", "en": "Reading the photos..."},
    "adapt.progress_fit": {"ko": "검출기 학습 중", "en": "Fitting the detector"},
    "adapt.progress_before": {
        "ko": "현재 RGB 모델로 정상 사진을 검사하는 중...",
        "en": "Scoring the normals with the current RGB model...",
    },
    "adapt.progress_done": {"ko": "완료", "en": "Done"},
    "adapt.before_unavailable": {
        "ko": "현재 RGB 모델을 불러올 수 없어 비교하지 못했습니다: {reason}",
        "en": "The current RGB model could not be loaded for the comparison: {reason}",
    },
    "adapt.skipped": {
        "ko": "읽을 수 없는 파일 {n}개를 건너뛰었습니다:",
        "en": "{n} file(s) could not be read and were skipped:",
    },
    "adapt.result": {"ko": "학습 결과: {detector}", "en": "Fitted: {detector}"},
    "adapt.before": {"ko": "오경보율 (현재 모델)", "en": "False alarms (current model)"},
    "adapt.before_help": {
        "ko": "지금 쓰는 RGB 모델 ({model})이 업로드한 정상 사진을 불량으로 표시한 비율.",
        "en": "Share of the given normal photos that the RGB model in use ({model}) flags.",
    },
    "adapt.after": {"ko": "오경보율 (새 모델)", "en": "False alarms (new model)"},
    "adapt.after_help": {
        "ko": "학습에 쓰지 않은 정상 사진(교차 검증)에서 새 모델이 불량으로 표시한 비율.",
        "en": "Share of held-out normal photos (cross-fitting) that the new model flags.",
    },
    "adapt.recall": {"ko": "불량 검출률", "en": "Defect recall"},
    "adapt.recall_help": {
        "ko": "새 모델이 찾아낸 불량 사진의 비율 (불량 사진을 준 경우).",
        "en": "Share of the defect photos the new model flags (when defect photos were given).",
    },
    "adapt.photos": {"ko": "정상 / 불량 사진", "en": "Normal / defect photos"},
    "adapt.rule_youden": {
        "ko": "임계값 {threshold}: 정상(교차 검증)과 불량 점수의 Youden J.",
        "en": "Threshold {threshold}: Youden's J on the held-out normal and the defect scores.",
    },
    "adapt.rule_quantile": {
        "ko": "임계값 {threshold}: 교차 검증한 정상 점수에서 목표 오경보율을 주는 분위수.",
        "en": "Threshold {threshold}: the quantile of held-out normal scores that gives the target false-alarm rate.",
    },
    "adapt.histogram": {"ko": "이상 점수 분포와 임계값", "en": "Anomaly scores and the threshold"},
    "adapt.normals": {"ko": "정상", "en": "normal"},
    "adapt.defects": {"ko": "불량", "en": "defect"},
    "adapt.score": {"ko": "이상 점수", "en": "Anomaly score"},
    "adapt.count": {"ko": "사진 수", "en": "Photos"},
    "adapt.threshold": {"ko": "임계값", "en": "threshold"},
    "adapt.use": {"ko": "이 모델 사용", "en": "Use this model"},
    "adapt.installed": {
        "ko": "{name} 모델을 설치했고 이 세션의 RGB 모델로 선택했습니다 (고급 설정에서 바꿀 수 있습니다).",
        "en": "Installed {name} and made it this session's RGB model (change it in the advanced settings).",
    },
    # shared values
    "battery.cell": {"ko": "셀", "en": "cell"},
    "battery.module": {"ko": "모듈", "en": "module"},
    "axis.x": {"ko": "x축", "en": "x"},
    "axis.y": {"ko": "y축", "en": "y"},
    "policy.or": {"ko": "OR (하나라도 불량)", "en": "OR (either defective)"},
    "policy.and": {"ko": "AND (모두 불량)", "en": "AND (both defective)"},
    "severity.low": {"ko": "낮음", "en": "low"},
    "severity.medium": {"ko": "보통", "en": "medium"},
    "severity.high": {"ko": "높음", "en": "high"},
    "severity.critical": {"ko": "심각", "en": "critical"},
    # verdicts (both languages are always shown together on the report card)
    "review.needs_review": {"ko": "검토 필요", "en": "needs review"},
    "review.banner": {
        "ko": "검토 필요 / needs review — 이 판정은 사람이 확인해야 합니다: {reasons}",
        "en": "검토 필요 / needs review — a person must check this verdict: {reasons}",
    },
    "review.reason.ct_nonfinite_pixels": {"ko": "CT 파일에 NaN/무한대 값", "en": "CT file holds NaN/infinite values"},
    "review.reason.ct_blank_image": {"ko": "CT 영상에 대비가 없음 (빈 영상)", "en": "CT image has no contrast (blank)"},
    "review.reason.ct_noise_like": {"ko": "CT 영상이 잡음처럼 보임", "en": "CT image looks like noise, not a scan"},
    "review.reason.ct_colour_photo": {"ko": "CT 자리에 컬러 사진", "en": "a colour photo was given as CT"},
    "review.reason.ct_out_of_distribution": {
        "ko": "학습한 CT와 다른 영상 (분포 밖)",
        "en": "unlike any CT the model was trained on (out of distribution)",
    },
    "review.reason.ct_metadata_contradiction": {
        "ko": "영상이 입력한 배터리 종류와 다름",
        "en": "the image contradicts the battery type given",
    },
    "review.reason.ct_low_margin": {"ko": "CT 판정 여유가 작음", "en": "CT decision is close to its threshold"},
    "review.reason.rgb_blank_image": {"ko": "RGB 사진에 대비가 없음", "en": "RGB photo has no contrast (blank)"},
    "review.reason.rgb_noise_like": {"ko": "RGB 사진이 잡음처럼 보임", "en": "RGB photo looks like noise, not a photo"},
    "review.reason.rgb_grey_image": {"ko": "RGB 사진에 색이 없음 (CT 영상일 수 있음)", "en": "RGB photo has no colour (a CT slice?)"},
    "review.reason.rgb_out_of_distribution": {
        "ko": "RGB 사진이 학습된 정상 사진과 매우 다름",
        "en": "RGB photo is unlike every normal photo the detector was fitted on",
    },
    "history.col_review": {"ko": "검토", "en": "Review"},
    "verdict.normal": {"ko": "정상", "en": "Normal"},
    "verdict.internal_defect": {"ko": "내부불량", "en": "Internal defect"},
    "verdict.external_defect": {"ko": "외부불량", "en": "External defect"},
    "verdict.composite_defect": {"ko": "복합불량", "en": "Composite defect"},
    # reports
    "report.title": {"ko": "배터리 검사 리포트", "en": "Battery inspection report"},
    "report.item": {"ko": "항목", "en": "Item"},
    "report.value": {"ko": "값", "en": "Value"},
    "report.created": {"ko": "작성 시각", "en": "Created"},
    "report.inputs": {"ko": "입력", "en": "Inputs"},
    "report.verdict": {"ko": "최종 판정", "en": "Verdict"},
    "report.confidence": {"ko": "신뢰도", "en": "Confidence"},
    "report.ct": {"ko": "CT 분석 (내부)", "en": "CT analysis (inside)"},
    "report.rgb": {"ko": "RGB 분석 (외부)", "en": "RGB analysis (outside)"},
    "report.vlm": {"ko": "VLM 소견", "en": "VLM finding"},
    "report.vlg": {"ko": "VLG 검출", "en": "VLG detections"},
    "report.timings": {"ko": "추론 시간", "en": "Timings"},
    "report.label": {"ko": "예측 클래스", "en": "Predicted class"},
    "report.is_defect": {"ko": "불량 여부", "en": "Defective"},
    "report.score": {"ko": "이상 점수", "en": "Anomaly score"},
    "report.threshold": {"ko": "임계값", "en": "Threshold"},
    "report.boxes": {"ko": "결함 박스", "en": "Defect boxes"},
    "report.backend": {"ko": "백엔드", "en": "Backend"},
    "report.error": {"ko": "오류", "en": "Error"},
    "report.not_provided": {"ko": "이미지 없음", "en": "not provided"},
    "report.not_run": {"ko": "실행하지 않음", "en": "not run"},
    "report.images": {"ko": "시각화", "en": "Visualisations"},
    "report.font_note": {
        "ko": "Korean font not found: this PDF is in English only.",
        "en": "Korean font not found: this PDF is in English only.",
    },
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **fmt: object) -> str:
    """Translate ``key`` into ``lang`` and fill ``{placeholders}`` from ``fmt``.

    Args:
        key: dotted key of :data:`STRINGS`.
        lang: ``"ko"`` or ``"en"``; anything else falls back to English.
        **fmt: values for the string's ``str.format`` placeholders.

    Returns:
        The translated string. An unknown key returns the key itself (and the i18n test fails),
        so a missing string never crashes a page.
    """
    entry = STRINGS.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text


def verdict_label(verdict: str, lang: str) -> str:
    """The verdict in one language, e.g. ``"내부불량"`` or ``"Internal defect"``."""
    return t(f"verdict.{verdict}", lang)


def review_reasons_text(reasons: list[str] | None, lang: str) -> str:
    """Review reason codes in words, joined by ``; `` (unknown codes are shown as they are)."""
    return "; ".join(
        t(f"review.reason.{code}", lang) if f"review.reason.{code}" in STRINGS else str(code) for code in reasons or []
    )


def verdict_bilingual(verdict: str) -> str:
    """The verdict in Korean and English, e.g. ``"내부불량 (Internal defect)"``."""
    return f"{t(f'verdict.{verdict}', 'ko')} ({t(f'verdict.{verdict}', 'en')})"
