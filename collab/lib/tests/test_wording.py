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
    # what the first users wrote and nobody caught (issue 12)
    ("尽快开发", [("尽快", VagueKind.TIME)]),
    ("配合测试，尽量快", [("尽量", VagueKind.DEGREE)]),
    ("活动页面相关内容等", [("相关内容", VagueKind.OPEN_LIST), ("等", VagueKind.OPEN_LIST)]),
    # time
    ("稍后提供接口文档", [("稍后", VagueKind.TIME)]),
    ("第一时间通知客户", [("第一时间", VagueKind.TIME)]),
    ("月底上线", [("月底", VagueKind.TIME)]),
    ("Fix it quickly", [("quickly", VagueKind.TIME)]),
    ("in the near future", [("in the near future", VagueKind.TIME)]),
    # degree
    ("显著提高转化", [("显著", VagueKind.DEGREE), ("提高", VagueKind.DEGREE)]),
    ("页面响应比较快", [("比较快", VagueKind.DEGREE)]),
    ("修复一些缺陷", [("一些", VagueKind.DEGREE)]),
    ("优化用户体验", [("优化", VagueKind.DEGREE)]),
    ("Improve the onboarding", [("Improve", VagueKind.DEGREE)]),
    ("make it user-friendly", [("user-friendly", VagueKind.DEGREE)]),
    # estimate
    ("需要十几个人", [("十几", VagueKind.ESTIMATE)]),
    ("预计几天完成", [("几", VagueKind.ESTIMATE)]),
    ("takes several days", [("several", VagueKind.ESTIMATE)]),
    ("a few testers", [("a few", VagueKind.ESTIMATE)]),
    # undecided
    ("上线方案待确认", [("待确认", VagueKind.UNDECIDED)]),
    ("细节后续再议", [("后续再议", VagueKind.UNDECIDED)]),
    ("Release date TBA", [("TBA", VagueKind.UNDECIDED)]),
    # hedges of office writing
    ("争取下周完成", [("争取", VagueKind.HEDGE)]),
    ("力争按期交付", [("力争", VagueKind.HEDGE)]),
    ("原则上不延期", [("原则上", VagueKind.HEDGE)]),
    ("逐步推广到全国", [("逐步", VagueKind.HEDGE)]),
    ("研发配合一下", [("配合", VagueKind.HEDGE)]),
    ("应该能按时上线", [("应该", VagueKind.HEDGE)]),
    ("有空再看", [("有空", VagueKind.HEDGE)]),
    ("We will try to finish", [("try to", VagueKind.HEDGE)]),
    ("Hopefully done by Friday", [("Hopefully", VagueKind.HEDGE)]),
    ("add logging if possible", [("if possible", VagueKind.HEDGE)]),
    ("maybe next sprint", [("maybe", VagueKind.HEDGE)]),
    # open-ended lists in a scope
    ("设计、开发、测试等", [("等", VagueKind.OPEN_LIST)]),
    ("登录、注册等功能", [("等", VagueKind.OPEN_LIST)]),
    ("首页、活动页等等。", [("等等", VagueKind.OPEN_LIST)]),
    ("Login, signup, etc.", [("etc.", VagueKind.OPEN_LIST)]),
    ("pages, banners and so on", [("and so on", VagueKind.OPEN_LIST)]),
    # the template's blanks left unfilled
    ("XX部门负责测试", [("XX", VagueKind.PLACEHOLDER)]),
    ("××月××日前完成", [("××", VagueKind.PLACEHOLDER), ("××", VagueKind.PLACEHOLDER)]),
    ("负责人：（填写）", [("（填写）", VagueKind.PLACEHOLDER)]),
    ("目标：【请填写目标】", [("【请填写目标】", VagueKind.PLACEHOLDER)]),
    ("某某负责", [("某某", VagueKind.PLACEHOLDER)]),
    ("完成于____", [("____", VagueKind.PLACEHOLDER)]),
    ("Owner: TODO", [("TODO", VagueKind.PLACEHOLDER)]),
    ("Owner: <insert name>", [("<insert name>", VagueKind.PLACEHOLDER)]),
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
    "等待审批通过后上线",  # 等待 is "wait", not an open list
    "按等级评定",
    "各部门平等对待",
    "竞争对手分析报告",  # 竞争 is "competition", not the hedge 争取
    "统一测试口径",
    "三天内修复所有严重缺陷",
    "10月底前上线",  # a month's end with its month is a date
    "本月底前提交",
    "优化页面加载到2秒以内",  # an improvement with a target is measurable
    "improve conversion to 5%",
    "相关人员参加评审",
    "Xiaomi and XXL sizes",  # letters inside a word are not a placeholder
    "Sign the release notes",
    "10年以上工作经验",
    "每周五前提交周报",
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
