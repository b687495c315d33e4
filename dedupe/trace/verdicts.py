"""The attribution verdicts: one name for each, stored and exported as its plain string value, with what it
means (``syndtrace verdicts`` prints these; the rules that decide them are in ``dedupe.trace.audit``)."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """What a page's attribution amounts to."""

    meaning: str

    def __new__(cls, value: str, meaning: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    ORIGIN = "origin", "the story's original page"
    CREDITED = "credited", ("names or links the original's site, links the original article or its home page, "
                            "and keeps the original author")
    PARTIAL = "partial", "some credit: names or links the original or the copy it was taken from, but not all of the above"
    UNCREDITED = "uncredited", "no credit to the original, to the copy it was taken from, or to any source"
    MISATTRIBUTED = "misattributed", ("names as its source an outlet outside its chain of copies, and credits neither "
                                      "the original nor the copy it was taken from")

    @classmethod
    def in_decision_order(cls) -> tuple[Verdict, ...]:
        """The order the audit tries them in: the first that fits is the verdict."""
        return (cls.ORIGIN, cls.MISATTRIBUTED, cls.CREDITED, cls.PARTIAL, cls.UNCREDITED)


COPY_VERDICTS = (Verdict.CREDITED, Verdict.PARTIAL, Verdict.UNCREDITED, Verdict.MISATTRIBUTED)
UNCREDITED_VERDICTS = (Verdict.UNCREDITED, Verdict.MISATTRIBUTED)   # counted as a story's uncredited copies
