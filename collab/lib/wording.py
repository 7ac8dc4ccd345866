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
    HEDGE = "hedge"  # 争取, 原则上, "try to": a promise that commits nobody
    OPEN_LIST = "open_list"  # "页面相关内容等", "etc.": a scope nobody can close
    PLACEHOLDER = "placeholder"  # "XX", "（填写）": the template's blank left unfilled


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
    (r"随后", VagueKind.TIME),
    (r"稍后", VagueKind.TIME),
    (r"日后", VagueKind.TIME),
    (r"改天", VagueKind.TIME),
    (r"(?<![第])一段时间", VagueKind.TIME),
    (r"尽速", VagueKind.TIME),
    (r"第一时间", VagueKind.TIME),
    (r"越快越好", VagueKind.TIME),
    (r"(?<![\d一二三四五六七八九十本下上今明])(?:年|月)(?:初|中|底|末)", VagueKind.TIME),
    (r"\bat the earliest (?:opportunity|convenience)\b", VagueKind.TIME),
    (r"\bin the (?:near )?future\b", VagueKind.TIME),
    (r"\bquickly\b", VagueKind.TIME),
    (r"\bin a timely (?:manner|fashion)\b", VagueKind.TIME),
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
    (r"适度", VagueKind.DEGREE),
    (r"合理(?=[地的]?(?:安排|分配|控制|范围|水平|提升|优化|调整))", VagueKind.DEGREE),
    (r"明显(?=[提改降减增优好])", VagueKind.DEGREE),
    (r"显著", VagueKind.DEGREE),
    (r"充分", VagueKind.DEGREE),
    (r"全力", VagueKind.DEGREE),
    (r"(?<![统唯])一些", VagueKind.DEGREE),
    (r"有所(?=[提改降减增优好])", VagueKind.DEGREE),
    (r"(?:较|比较|相对|更加)(?:快|高|低|少|多|稳定|完善|流畅|满意|好)", VagueKind.DEGREE),
    (r"用户满意", VagueKind.DEGREE),
    (r"\buser[- ]friendly\b", VagueKind.DEGREE),
    (r"\bbetter\b", VagueKind.DEGREE),
    (r"\bsufficient(?:ly)?\b", VagueKind.DEGREE),
    (r"\bmostly\b", VagueKind.DEGREE),
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
    (r"[一二三四五六七八九十\d]{1,3}[几多来余](?=[个天日周月年次人项条页台份小%％])", VagueKind.ESTIMATE),
    (r"(?<![\d一二三四五六七八九十茶])几(?=[个天日周月年次人项条页台份]|小时|分钟)", VagueKind.ESTIMATE),
    (r"(?<=[\d])\s*(?:上下)(?![左右])", VagueKind.ESTIMATE),
    (r"(?<=[\d%％])\s*以上?(?:左右)", VagueKind.ESTIMATE),
    (r"\b(?:several|a few|a couple of|some(?= \d)|a number of|a lot of|lots of)\b", VagueKind.ESTIMATE),
    (r"\b(?:more or less|give or take|ballpark)\b", VagueKind.ESTIMATE),
    (r"\bapproximately\b", VagueKind.ESTIMATE),
    (r"\broughly\b", VagueKind.ESTIMATE),
    (r"\b(?:about|around|circa)(?=\s*\d)", VagueKind.ESTIMATE),
    (r"待定", VagueKind.UNDECIDED),
    (r"再定", VagueKind.UNDECIDED),
    (r"另行通知", VagueKind.UNDECIDED),
    (r"[看视]情况", VagueKind.UNDECIDED),
    (r"\bTB[DCA]\b", VagueKind.UNDECIDED),
    (r"\bto be (?:decided|determined|confirmed|defined|agreed)\b", VagueKind.UNDECIDED),
    (r"待(?:确认|商议|讨论|协商|研究|补充|完善)", VagueKind.UNDECIDED),
    (r"后续再[议定说看]", VagueKind.UNDECIDED),
    (r"以后再说", VagueKind.UNDECIDED),
    (r"\blater on\b", VagueKind.UNDECIDED),
    # Chinese office hedges: each makes a commitment that nobody can be held to.
    (r"(?<!竞)争取", VagueKind.HEDGE),
    (r"力争", VagueKind.HEDGE),
    (r"力求", VagueKind.HEDGE),
    (r"原则上", VagueKind.HEDGE),
    (r"一定程度上?", VagueKind.HEDGE),
    (r"(?<![进一])逐步", VagueKind.HEDGE),
    (r"进一步(?=[提优完加改强推深扩做])", VagueKind.HEDGE),
    (r"有空", VagueKind.HEDGE),
    (r"有时间(?:的话|再|就)", VagueKind.HEDGE),
    (r"配合(?=一下|[。，,；;]|$)", VagueKind.HEDGE),
    (r"(?:应该|可能|也许|或许|估计)(?=[会能可要在于]|完成|上线|交付|没问题)", VagueKind.HEDGE),
    (r"\btry(?:ing)? to\b", VagueKind.HEDGE),
    (r"\bhopefully\b", VagueKind.HEDGE),
    (r"\bif possible\b", VagueKind.HEDGE),
    (r"\bwhere possible\b", VagueKind.HEDGE),
    (r"\b(?:maybe|perhaps)\b", VagueKind.HEDGE),
    (r"\bbest effort\b", VagueKind.HEDGE),
    (r"\bas needed\b", VagueKind.HEDGE),
    (r"\bin principle\b", VagueKind.HEDGE),
    # Open-ended lists: 等 closing a list (not 等待, 等级, 相等, 平等, 等于...), "etc.".
    (
        r"(?<![相平同对均不何优上中高初次特])等等?(?=\s*(?:$|[。，、；;,.!！?？）)]|相关|内容|工作|方面|事[项宜]|功能|模块|页面|环节|问题|资料|材料|场景))",
        VagueKind.OPEN_LIST,
    ),
    (r"相关(?:内容|事宜|工作|事项|问题)", VagueKind.OPEN_LIST),
    (r"\betc\b\.?", VagueKind.OPEN_LIST),
    (r"\bet cetera\b", VagueKind.OPEN_LIST),
    (r"\band so (?:on|forth)\b", VagueKind.OPEN_LIST),
    (r"\band (?:more|the like|similar)\b", VagueKind.OPEN_LIST),
    (r"\b(?:among others|and other (?:things|stuff|items))\b", VagueKind.OPEN_LIST),
    # The template's blanks left as printed.
    (r"(?<![A-Za-z])[Xx×]{2,}(?![A-Za-z])", VagueKind.PLACEHOLDER),
    (r"某某", VagueKind.PLACEHOLDER),
    (
        r"[（(【\[<＜]\s*(?:请)?(?:填写|填入|补充|待填|输入)[^）)】\]>＞]{0,12}[）)】\]>＞]",
        VagueKind.PLACEHOLDER,
    ),
    (r"[（(【\[]\s*\.{3}\s*[）)】\]]|…{2,}|\.{4,}|_{3,}", VagueKind.PLACEHOLDER),
    (r"\b(?:TODO|FIXME|lorem ipsum)\b", VagueKind.PLACEHOLDER),
    (r"[<\[]\s*(?:insert|fill in|enter|name|date|department)[^>\]]{0,20}[>\]]", VagueKind.PLACEHOLDER),
]
_PATTERNS = [(re.compile(rx, re.IGNORECASE), kind) for rx, kind in _TERMS]

# Verbs of improvement are fine with a target ("优化加载时间到2秒以内") and vague without one, so
# they count only in a text that has no measurable criterion at all.
_UNMEASURED = re.compile(
    r"优化|完善|提升|改善|加强|提高|\b(?:improve|optimi[sz]e|enhance|strengthen)(?:s|d|ment)?\b",
    re.IGNORECASE,
)

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
    if not has_measurable_criterion(text):
        for m in _UNMEASURED.finditer(text):
            found.append(VagueMatch(m.group(0), VagueKind.DEGREE, m.start(), m.end()))
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
