"""In Chromium: the deliverer draws a handwritten signature on the pad and signs with the password."""

import base64
from typing import Any

import pytest
import time_machine

from collab.testing import PASSWORD, Org, make_org
from reviews_app.models import Signature
from reviews_app.tests.delivery_support import accept, at, plan_task, submit
from tasks_app.tests.support import executing_item

pytestmark = [pytest.mark.browser]


@pytest.fixture
def live_org(transactional_db: Any) -> Org:
    return make_org()


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button.primary[type=submit]").click()
    page.wait_for_load_state()


def test_the_deliverer_draws_and_signs(page: Any, live_server: Any, live_org: Org) -> None:
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        item = executing_item(live_org)
    deliverable = submit(live_org, plan_task(item))
    accept(live_org, deliverable)
    base = live_server.url
    log_in(page, base, "owner")
    page.goto(f"{base}/items/{item.pk}/deliverables/{deliverable.pk}/")

    pad = page.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 100)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 100 - (step % 3) * 30)
    page.mouse.up()
    drawn = page.input_value("#id_drawing")
    assert drawn.startswith("data:image/png;base64,")
    page.fill("#sign-form input[name=password]", PASSWORD)
    page.locator("#sign-form button[type=submit]").click()
    page.locator("#signatures img.signature-drawing").wait_for()

    signature = Signature.objects.get()
    assert (signature.signer_id, signature.role) == (live_org.owner.pk, "deliverer")
    assert signature.drawing == drawn
    assert base64.b64decode(drawn.split(",", 1)[1]).startswith(b"\x89PNG")
    assert signature.ip_address == "127.0.0.1"
