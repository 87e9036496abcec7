"""Metrics: ``classification`` (per-class tables, confusion matrix, binary normal vs defect),
``calibration`` (ECE, temperature scaling) and ``localisation`` (GAIN attention metrics)."""
