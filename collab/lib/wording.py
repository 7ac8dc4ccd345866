"""The template's first rule, "say it clearly": find vague wording and check for a measurable criterion.

Pure Python with no Django import, so the table-driven tests run in milliseconds and the same
check serves the requirement form, the delivery standards of tasks and anything else a person
writes a commitment into. Callers turn a match's ``kind`` into advice in the reader's language.
"""

import re
from dataclasses import dataclass
from enum import StrEnum


class VagueKind(StrEnum):
    TIME = "time"  # "ASAP", 尽快: no date
    DEGREE = "degree"  # "appropriately", 适当: no standard
    ESTIMATE = "estimate"  # "roughly", 左右: no exact figure
    UNDECIDED = "undecided"  # "TBD", 待定: no decision


# (regular expression, kind). Chinese has no word boundaries, so look-arounds exclude the
# known harmless compounds (及时率 is an on-time rate; 上下左右 and 左右两侧 are directions).
_TERMS: list[tuple[str, VagueKind]] = [
    (r"尽快", VagueKind.TIME),
    (r"尽早", VagueKind.TIME),
    (r"马上", VagueKind.TIME),
    (r"及时(?!率)", VagueKind.TIME),
    (r"近期", VagueKind.TIME),
    (r"适时", VagueKind.TIME),
    (r"择期", VagueKind.TIME),
    (r"抓紧", VagueKind.TIME),
    (r"早日", VagueKind.TIME),
    (r"\bASAP\b", VagueKind.TIME),
    (r"\bas soon as (?:possible|we can|feasible)\b", VagueKind.TIME),
    (r"\bsoon(?:er|est)?\b", VagueKind.TIME),
    (r"\bshortly\b", VagueKind.TIME),
    (r"\bpromptly\b", VagueKind.TIME),
    (r"\bat some point\b", VagueKind.TIME),
    (r"\bin due course\b", VagueKind.TIME),
    (r"\bwhen(?:ever)? possible\b", VagueKind.TIME),
    (r"适当", VagueKind.DEGREE),
    (r"尽量", VagueKind.DEGREE),
    (r"酌情", VagueKind.DEGREE),
    (r"较好", VagueKind.DEGREE),
    (r"更好", VagueKind.DEGREE),
    (r"大幅", VagueKind.DEGREE),
    (r"基本(?=完成|达到|满足|覆盖|解决|可用)", VagueKind.DEGREE),
    (r"\bappropriate(?:ly)?\b", VagueKind.DEGREE),
    (r"\breasonabl[ey]\b", VagueKind.DEGREE),
    (r"\bas (?:much|far|well) as possible\b", VagueKind.DEGREE),
    (r"\bsignificant(?:ly)?\b", VagueKind.DEGREE),
    (r"\badequate(?:ly)?\b", VagueKind.DEGREE),
    (r"\bgood enough\b", VagueKind.DEGREE),
    (r"大概", VagueKind.ESTIMATE),
    (r"(?<!上下)左右(?![两侧滑对])", VagueKind.ESTIMATE),
    (r"差不多", VagueKind.ESTIMATE),
    (r"大约", VagueKind.ESTIMATE),
    (r"大致", VagueKind.ESTIMATE),
    (r"若干", VagueKind.ESTIMATE),
    (r"\bapproximately\b", VagueKind.ESTIMATE),
    (r"\broughly\b", VagueKind.ESTIMATE),
    (r"\b(?:about|around|circa)(?=\s*\d)", VagueKind.ESTIMATE),
    (r"待定", VagueKind.UNDECIDED),
    (r"再定", VagueKind.UNDECIDED),
    (r"另行通知", VagueKind.UNDECIDED),
    (r"[看视]情况", VagueKind.UNDECIDED),
    (r"\bTB[DC]\b", VagueKind.UNDECIDED),
    (r"\bto be (?:decided|determined|confirmed|defined)\b", VagueKind.UNDECIDED),
]
_PATTERNS = [(re.compile(rx, re.IGNORECASE), kind) for rx, kind in _TERMS]

_CN_DIGITS = "零〇一二两三四五六七八九十百千万"
_MEASURABLE = re.compile(
    r"\d"  # any number, date, percentage or threshold written with digits (also full-width)
    rf"|百分之[{_CN_DIGITS}]+"
    rf"|[{_CN_DIGITS}]+\s*(?:个|项|天|日|周|月|年|次|人|倍|成|小时|分钟|秒|元|家|条|页|台|份|轮|期|季度|版|%|％)"
    r"|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|fifty|hundred|thousand|half|percent|per cent)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class VagueMatch:
    phrase: str  # as the person wrote it, e.g. "尽快" or "asap"
    kind: VagueKind
    start: int
    end: int


def find_vague(text: str) -> list[VagueMatch]:
    """Every vague phrase in ``text``, in reading order, overlapping matches removed."""
    found: list[VagueMatch] = []
    for pattern, kind in _PATTERNS:
        for m in pattern.finditer(text):
            found.append(VagueMatch(m.group(0), kind, m.start(), m.end()))
    found.sort(key=lambda v: (v.start, -(v.end - v.start)))
    result: list[VagueMatch] = []
    for match in found:
        if result and match.start < result[-1].end:
            continue  # "as soon as possible" already covers its "soon"
        result.append(match)
    return result


def has_measurable_criterion(text: str) -> bool:
    """True when ``text`` carries a number, percentage, date or threshold to check a result against."""
    return bool(_MEASURABLE.search(text))
