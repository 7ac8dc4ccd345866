"""The client's address through trusted reverse proxies, and never from a header anyone can write."""

import ipaddress

from collab.lib.client_ip import client_ip

PROXIES = [ipaddress.ip_network("10.0.0.5/32"), ipaddress.ip_network("172.16.0.0/12")]


def test_a_direct_connection_is_the_client_whatever_it_claims() -> None:
    assert client_ip("203.0.113.7", "1.2.3.4", PROXIES) == "203.0.113.7"
    assert client_ip("203.0.113.7", "", []) == "203.0.113.7"


def test_through_the_proxy_the_address_it_saw_is_the_client() -> None:
    assert client_ip("10.0.0.5", "192.168.3.21", PROXIES) == "192.168.3.21"


def test_a_forged_left_part_is_not_believed() -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the address it really saw.
    assert client_ip("10.0.0.5", "1.2.3.4, 192.168.3.21", PROXIES) == "192.168.3.21"


def test_a_chain_of_trusted_proxies_is_walked_through() -> None:
    assert client_ip("10.0.0.5", "192.168.3.21, 172.16.4.4", PROXIES) == "192.168.3.21"
    assert client_ip("10.0.0.5", "2001:db8::1", PROXIES) == "2001:db8::1"


def test_garbage_falls_back_to_the_last_address_we_can_vouch_for() -> None:
    assert client_ip("10.0.0.5", "not-an-ip", PROXIES) == "10.0.0.5"
    assert client_ip("10.0.0.5", "", PROXIES) == "10.0.0.5"
    assert client_ip("unix-socket", "1.2.3.4", PROXIES) is None
