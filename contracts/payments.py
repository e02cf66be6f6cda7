"""The sandbox payment provider's test cards, read from ``contracts/payments.yaml``."""
from __future__ import annotations

from pathlib import Path

import yaml

_CARDS = yaml.safe_load((Path(__file__).resolve().parent / "payments.yaml").read_text())["sandbox_cards"]

SANDBOX_SUCCEEDS = frozenset(_CARDS["succeeds"])
SANDBOX_DECLINES = frozenset(_CARDS["declines"])
SANDBOX_RETRY = frozenset(_CARDS["retry"])
SANDBOX_3DS = frozenset(_CARDS["three_d_secure"])
SANDBOX_CARDS = SANDBOX_SUCCEEDS | SANDBOX_DECLINES | SANDBOX_RETRY | SANDBOX_3DS
