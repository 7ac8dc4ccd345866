"""The review clock's one wording (collab.org.calendar.review_clock_label), in both languages.

The deliverable's page, the department board and "my work" all show it; before, the page said
"还剩23 小时，59 分钟，合8个工作小时" while the boards said "剩余工作时间8小时00分".
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from collab.org.calendar import calendar_for, review_clock_label

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


DUE = at("2026-10-08 15:00")  # one working day after Wed 09-30 15:00: National Day in between


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "english", "chinese"),
    [
        # 15:00-18:00 on 09-30, then 09:00-15:00 on 10-08 less the lunch hour: 8 working hours.
        ("2026-09-30 15:00", "8 h 00 min of working time left", "剩余工作时间8小时00分"),
        # Over the holidays no working time passes.
        ("2026-10-04 20:00", "5 h 00 min of working time left", "剩余工作时间5小时00分"),
        ("2026-10-08 14:35", "0 h 25 min of working time left", "剩余工作时间0小时25分"),
        ("2026-10-08 16:10", "Overdue by 1 h 10 min of working time", "已超时，超出工作时间1小时10分"),
        # Overdue across the night counts working time only: 15:00-18:00 and 09:00-10:30.
        ("2026-10-09 10:30", "Overdue by 4 h 30 min of working time", "已超时，超出工作时间4小时30分"),
    ],
)
def test_the_review_clock_reads_the_same_in_both_languages(now: str, english: str, chinese: str) -> None:
    calendar = calendar_for(None)
    with translation.override("en"):
        assert review_clock_label(calendar, at(now), DUE) == english
    with translation.override("zh-hans"):
        assert review_clock_label(calendar, at(now), DUE) == chinese
