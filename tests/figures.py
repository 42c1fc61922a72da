"""Counters the reliability tests fill; printed at the end of the run (see conftest), quoted in docs."""

from __future__ import annotations

from collections import Counter

FIGURES: Counter[str] = Counter()
