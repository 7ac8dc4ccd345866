"""COLLAB_ADDR: which host names scripts/start accepts and which URL it prints."""

import pytest

from collab.lib.listen import ListenAddressError, allowed_hosts, parse, url

MACHINE = ["office-server", "office-server.corp.example", "192.168.1.20"]


def test_the_default_is_this_machine_only() -> None:
    host, port = parse("127.0.0.1:8000")
    assert allowed_hosts(host, []) == ["127.0.0.1", "localhost", "[::1]"]
    assert url(host, port, []) == "http://127.0.0.1:8000"
    assert parse("8001") == ("127.0.0.1", 8001)


def test_all_interfaces_accept_the_machine_names_and_print_a_reachable_url() -> None:
    host, port = parse("0.0.0.0:8000")
    assert allowed_hosts(host, MACHINE) == ["127.0.0.1", "localhost", "[::1]", *MACHINE]
    assert url(host, port, MACHINE) == "http://192.168.1.20:8000"
    host, port = parse("[::]:80")
    assert "*" not in allowed_hosts(host, MACHINE)
    assert url(host, port, MACHINE) == "http://192.168.1.20:80"


def test_a_named_address_is_accepted_and_printed_as_written() -> None:
    assert allowed_hosts("collab.local", []) == ["127.0.0.1", "localhost", "[::1]", "collab.local"]
    assert url(*parse("[2001:db8::5]:8000"), []) == "http://[2001:db8::5]:8000"
    assert allowed_hosts("2001:db8::5", []) == ["127.0.0.1", "localhost", "[::1]", "[2001:db8::5]"]


@pytest.mark.parametrize("addr", ["x:y", "0.0.0.0:99999", "", "host:"])
def test_a_bad_address_is_explained(addr: str) -> None:
    with pytest.raises(ListenAddressError, match="write host:port"):
        parse(addr)
