"""``evaluate vlm`` and ``evaluate vlg``: backends scored on a manifest split."""
