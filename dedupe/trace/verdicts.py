"""The attribution verdicts: one name for each, stored and exported as its plain string value."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """What a page's attribution amounts to (the rules are in ``dedupe.trace.audit``)."""

    ORIGIN = "origin"
    CREDITED = "credited"
    PARTIAL = "partial"
    UNCREDITED = "uncredited"
    MISATTRIBUTED = "misattributed"


COPY_VERDICTS = (Verdict.CREDITED, Verdict.PARTIAL, Verdict.UNCREDITED, Verdict.MISATTRIBUTED)
UNCREDITED_VERDICTS = (Verdict.UNCREDITED, Verdict.MISATTRIBUTED)   # counted as a story's uncredited copies
