import pytest

from collab.lib.wording import VagueKind, find_vague, has_measurable_criterion

VAGUE = [
    # (text, the phrases a person must be told about, in order, with their kinds)
    ("尽快完成测试", [("尽快", VagueKind.TIME)]),
    ("请尽早提交测试计划", [("尽早", VagueKind.TIME)]),
    ("研发马上修复问题", [("马上", VagueKind.TIME)]),
    ("及时反馈测试结果", [("及时", VagueKind.TIME)]),
    ("适当增加测试人员", [("适当", VagueKind.DEGREE)]),
    ("大概需要两周", [("大概", VagueKind.ESTIMATE)]),
    ("覆盖90%左右的用户需求", [("左右", VagueKind.ESTIMATE)]),
    ("差不多覆盖全部需求", [("差不多", VagueKind.ESTIMATE)]),
    ("上线时间待定", [("待定", VagueKind.UNDECIDED)]),
    ("测试基本完成即可", [("基本", VagueKind.DEGREE)]),
    ("Finish the test plan ASAP", [("ASAP", VagueKind.TIME)]),
    ("finish as soon as possible", [("as soon as possible", VagueKind.TIME)]),
    ("We will ship soon", [("soon", VagueKind.TIME)]),
    ("Launch date TBD", [("TBD", VagueKind.UNDECIDED)]),
    ("Cover roughly 90% of needs", [("roughly", VagueKind.ESTIMATE)]),
    ("about 3 weeks of testing", [("about", VagueKind.ESTIMATE)]),
    ("Staff the team appropriately", [("appropriately", VagueKind.DEGREE)]),
    ("尽快完成,大概覆盖90%", [("尽快", VagueKind.TIME), ("大概", VagueKind.ESTIMATE)]),
    ("asap, then TBD", [("asap", VagueKind.TIME), ("TBD", VagueKind.UNDECIDED)]),
]

CLEAR = [
    "10月5日前提交测试计划",
    "功能覆盖90%的用户需求",
    "用例覆盖率≥95%",
    "按时交付率达到98%",
    "提升反馈及时率至95%",  # 及时率 is a measurable on-time rate
    "检查页面上下左右的布局",  # 上下左右 is a direction
    "按钮左右两侧留白16像素",
    "Deliver the test plan before 2026-10-05",
    "Coverage of at least 95% of test cases",
    "Talk about the launch plan",  # "about" without a figure is not an estimate
    "No later than 5 October",
    "Reason codes are documented",  # no vague word hidden inside a longer one
]


@pytest.mark.parametrize(("text", "expected"), VAGUE)
def test_it_names_each_vague_phrase(text: str, expected: list[tuple[str, VagueKind]]) -> None:
    assert [(m.phrase, m.kind) for m in find_vague(text)] == expected


@pytest.mark.parametrize("text", CLEAR)
def test_it_leaves_clear_wording_alone(text: str) -> None:
    assert find_vague(text) == []


def test_it_reports_where_the_phrase_stands() -> None:
    [match] = find_vague("测试需要尽快完成")
    assert "测试需要尽快完成"[match.start : match.end] == "尽快"


MEASURABLE = [
    ("功能覆盖90%的用户需求", True),
    ("用例覆盖率≥95%", True),
    ("10月15日前上线", True),
    ("2026-10-15 launch", True),
    ("百分之九十的需求被覆盖", True),
    ("严重缺陷少于三个", True),
    ("一些缺陷", False),  # a numeral without a unit is too easily part of a word
    ("三天内修复", True),
    ("ninety percent of needs", True),
    ("zero open blockers", True),
    ("让用户满意", False),
    ("提升用户体验", False),
    ("Make users happy", False),
    ("统一测试口径", False),  # 一 inside 统一 is not a number
    ("全角数字９０％覆盖", True),
]


@pytest.mark.parametrize(("text", "measurable"), MEASURABLE)
def test_it_tells_a_measurable_outcome_from_a_wish(text: str, measurable: bool) -> None:
    assert has_measurable_criterion(text) is measurable
