"""A small curated table of likely causes and actions per defect type (Korean and English).

Used by :mod:`models.vlm.findings_writer`. Causes are the usual process origins of each
defect in cylindrical/pouch cell and module manufacturing; they are hypotheses for an
engineer to check, not diagnoses.
"""

from __future__ import annotations

# defect type -> base severity when detected (see findings_writer.severity_rule)
BASE_SEVERITY: dict[str, str] = {
    "porosity": "high",
    "resin_overflow": "medium",
    "pollution": "low",
    "scratch": "medium",
    "damage": "high",
    "external_anomaly": "medium",
    "defect": "medium",
}

NAMES: dict[str, dict[str, str]] = {
    "none": {"en": "no defect", "ko": "결함 없음"},
    "porosity": {"en": "porosity (internal pores / voids)", "ko": "기공 (내부 공극)"},
    "resin_overflow": {"en": "resin overflow", "ko": "레진 넘침"},
    "pollution": {"en": "surface pollution", "ko": "표면 오염"},
    "scratch": {"en": "scratch", "ko": "스크래치"},
    "damage": {"en": "damage (dent / deformation)", "ko": "손상 (찍힘 / 변형)"},
    "external_anomaly": {"en": "external surface anomaly", "ko": "외관 이상"},
    "defect": {"en": "defect", "ko": "결함"},
}

CAUSES: dict[str, dict[str, str]] = {
    "porosity": {
        "en": "gas trapped during electrolyte filling or formation, or uneven electrode "
        "coating / winding tension leaving voids",
        "ko": "전해액 주입 또는 화성 공정 중 갇힌 가스, 혹은 전극 코팅 / 권취 장력 불균일로 생긴 공극",
    },
    "resin_overflow": {
        "en": "excess potting resin or a mis-set dispensing volume / nozzle position during module assembly",
        "ko": "모듈 조립 시 포팅 레진 과다 또는 디스펜서 토출량 / 노즐 위치 설정 오류",
    },
    "pollution": {
        "en": "electrolyte or lubricant residue, dust, or handling with contaminated gloves",
        "ko": "전해액 / 윤활유 잔류, 분진, 또는 오염된 장갑으로의 취급",
    },
    "scratch": {
        "en": "sliding contact with fixtures, conveyors or neighbouring cells during handling or transport",
        "ko": "취급 / 운송 중 지그, 컨베이어 또는 인접 셀과의 마찰 접촉",
    },
    "damage": {
        "en": "impact or compression during handling, transport or stacking",
        "ko": "취급, 운송 또는 적재 중 충격이나 압착",
    },
    "external_anomaly": {
        "en": "surface contamination, a scratch or a dent; the appearance model does not name the type",
        "ko": "표면 오염, 스크래치 또는 찍힘 (외관 모델은 유형을 구분하지 않음)",
    },
    "defect": {"en": "unknown; inspect the region", "ko": "미상; 해당 영역 확인 필요"},
}

ACTIONS: dict[str, dict[str, str]] = {
    "none": {
        "en": "No action; release the battery to the next process step.",
        "ko": "조치 불필요; 다음 공정으로 진행.",
    },
    "porosity": {
        "en": "Hold the battery, re-scan adjacent CT slices to size the voids, and review the "
        "filling / formation degassing records of the batch.",
        "ko": "배터리를 보류하고 인접 CT 단면을 재촬영해 공극 크기를 확인, 해당 배치의 주액 / 화성 탈기 기록을 점검.",
    },
    "resin_overflow": {
        "en": "Hold the module, check clearances around the overflow, and recalibrate the resin dispenser.",
        "ko": "모듈을 보류하고 넘친 부위 주변 간섭 여부를 확인, 레진 디스펜서를 재보정.",
    },
    "pollution": {
        "en": "Clean the surface with an approved solvent and re-inspect; check handling gloves and fixtures.",
        "ko": "승인된 용제로 표면을 세정 후 재검사; 취급 장갑과 지그 청결 상태 점검.",
    },
    "scratch": {
        "en": "Measure the scratch depth; reject if the can or insulation is breached, "
        "and inspect the handling line for sharp edges.",
        "ko": "스크래치 깊이를 측정하고 캔 / 절연층 손상 시 불합격 처리, 이송 라인의 날카로운 모서리 점검.",
    },
    "damage": {
        "en": "Reject or quarantine the battery (deformation can cause internal shorts) and review "
        "transport and stacking conditions.",
        "ko": "배터리를 불합격 또는 격리 (변형은 내부 단락을 유발할 수 있음), 운송 / 적재 조건 점검.",
    },
    "external_anomaly": {
        "en": "Inspect the marked area visually to tell pollution from a scratch or dent, then "
        "clean, rework or reject accordingly.",
        "ko": "표시된 영역을 육안으로 확인해 오염 / 스크래치 / 찍힘을 구분한 뒤 세정, 재작업 또는 불합격 처리.",
    },
    "defect": {"en": "Inspect the marked region manually.", "ko": "표시된 영역을 수동 검사."},
}
