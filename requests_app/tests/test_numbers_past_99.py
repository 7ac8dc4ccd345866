"""Register numbers keep the template's YYYYMM + 2 digits for a month's first 99 items; the 100th
gets three digits and still sorts after the 99th, in the register and in its export."""

import io
from datetime import UTC, datetime

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from collab.testing import Org, client_for, make_item, requirement
from requests_app import services
from requests_app.models import CollaborationItem, ItemNumberSequence

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 12, 8, 2, 0, tzinfo=UTC), tick=False)
def test_the_hundredth_item_of_a_month_sorts_after_the_ninety_ninth(org: Org) -> None:
    ItemNumberSequence.objects.create(period="202612", last=98)
    ninety_ninth, hundredth, next_one = make_item(org), make_item(org), make_item(org)
    assert (ninety_ninth.number, hundredth.number, next_one.number) == ("20261299", "202612100", "202612101")
    with time_machine.travel(datetime(2027, 1, 4, 2, 0, tzinfo=UTC), tick=False):
        january = make_item(org)
    assert january.number == "20270101"

    newest_first = ["20270101", "202612101", "202612100", "20261299"]
    assert (
        list(CollaborationItem.objects.exclude(number=None).values_list("number", flat=True)) == newest_first
    )
    client = client_for(org.requester)
    page = client.get(reverse("requests_app:register"), {"sort": "number"}).content.decode()
    assert [page.index(n) for n in reversed(newest_first)] == sorted(page.index(n) for n in newest_first)

    export = client.get(reverse("requests_app:register_export"), {"sort": "-number"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert sheet is not None
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    assert numbers == newest_first


def test_an_imported_number_must_be_ascii_digits_of_a_sensible_length(org: Org) -> None:
    for number in ["２０２６１２０１", "2026120", "2026121234567890123", "202612٠١"]:
        with pytest.raises(services.ItemError) as refused:
            services.item_register_existing(
                actor=org.requester,
                requester=org.requester,
                data=requirement(org),
                number=number,
                submitted_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
            )
        assert refused.value.message == f"“{number}”不是有效的沟通事项编号（格式如20231001）。"
    assert not CollaborationItem.objects.exists()
