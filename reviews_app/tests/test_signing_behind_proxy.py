"""Behind a reverse proxy, a signature records the signer's address, not the proxy's."""

import ipaddress

import pytest
from django.test import override_settings
from django.urls import reverse

from collab.testing import PASSWORD, Org, client_for
from reviews_app.models import Signature
from reviews_app.tests.delivery_support import accept, plan_task, started_item, submit

pytestmark = pytest.mark.django_db


def test_the_signers_address_comes_through_a_trusted_proxy_only(org: Org) -> None:
    task = plan_task(started_item(org))
    deliverable = submit(org, task)
    accept(org, deliverable)
    url = reverse("reviews_app:deliverable_sign", args=[task.item_id, deliverable.pk])
    with override_settings(COLLAB_TRUSTED_PROXIES=[ipaddress.ip_network("10.0.0.5")]):
        # Through the proxy at 10.0.0.5, which appends the address it saw to what the client sent.
        client_for(org.owner).post(
            url,
            {"role": "deliverer", "password": PASSWORD, "drawing": ""},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 192.168.3.21",
        )
        # Straight to the server, claiming to be somebody else: the claim is ignored.
        client_for(org.receiver).post(
            url,
            {"role": "receiver", "password": PASSWORD, "drawing": ""},
            REMOTE_ADDR="192.168.7.7",
            HTTP_X_FORWARDED_FOR="192.168.3.21",
        )
    assert list(Signature.objects.order_by("pk").values_list("role", "ip_address")) == [
        ("deliverer", "192.168.3.21"),
        ("receiver", "192.168.7.7"),
    ]
