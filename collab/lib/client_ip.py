"""The address of the person behind a request, through the reverse proxies we trust."""

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(remote_addr: str, forwarded_for: str, trusted: Sequence[Network]) -> str | None:
    """The client's address, or None when the connection's own address is not an IP address.

    1. A connection from an untrusted address is the client: X-Forwarded-For is whatever that
       client wrote, so it is ignored.
    2. From a trusted proxy, walk X-Forwarded-For from the right (each proxy appends the address
       it saw) past the trusted proxies; the first other address is the client. A client can put
       anything on the left, so nothing left of that address is read.
    """
    remote = _parse(remote_addr)
    if remote is None:
        return None

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in trusted)

    if not is_trusted(remote):
        return str(remote)
    for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        address = _parse(hop)
        if address is None:
            break  # a garbled entry: the proxy's own address is the last one we can vouch for
        remote = address
        if not is_trusted(address):
            break
    return str(remote)
