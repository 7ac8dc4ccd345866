"""What a listen address (COLLAB_ADDR) means for the host names to accept and the URL to print.

`python -m collab.lib.listen 0.0.0.0:8000` prints two lines for scripts/start: the host names
(comma-separated, for COLLAB_ALLOWED_HOSTS) and the URL people open.
"""

import ipaddress
import socket
import sys

LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"]


class ListenAddressError(ValueError):
    pass


def parse(addr: str) -> tuple[str, int]:
    """'8000' -> ('127.0.0.1', 8000); '0.0.0.0:80', '[::]:8000', 'collab.local:8000' as written."""
    host, separator, port_text = addr.strip().rpartition(":")
    if not separator:
        host, port_text = "127.0.0.1", addr.strip()
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ListenAddressError(
            f"COLLAB_ADDR={addr!r}: write host:port, e.g. 127.0.0.1:8000 or 0.0.0.0:8000"
        )
    return host, int(port_text)


def _is_wildcard(host: str) -> bool:
    return host in {"0.0.0.0", "::"}  # noqa: S104 (the point is to recognise it)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def primary_address() -> str | None:
    """The address other machines reach this one at: the source of a route outwards.

    Connecting a UDP socket sends nothing; it only asks the kernel which interface it would use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            return str(probe.getsockname()[0])
        except OSError:
            return None


def machine_names() -> list[str]:
    names = [socket.gethostname(), socket.getfqdn()]
    address = primary_address()
    if address:
        names.append(address)
    return names


def allowed_hosts(host: str, machine: list[str]) -> list[str]:
    """Loopback names always (the server itself); the given name; every name of the machine
    when listening on all interfaces. Never "*"."""
    hosts = list(LOOPBACK_NAMES)
    if _is_wildcard(host):
        hosts += machine
    elif not _is_loopback(host):
        hosts.append(_url_host(host))
    return list(dict.fromkeys(h for h in hosts if h))


def url(host: str, port: int, machine: list[str]) -> str:
    """The URL that works from a browser: a wildcard address is not one, the machine's is."""
    shown = host
    if _is_wildcard(host):
        shown = machine[-1] if machine else "127.0.0.1"
    return f"http://{_url_host(shown)}:{port}"


def main(argv: list[str]) -> int:
    try:
        host, port = parse(argv[1] if len(argv) > 1 else "127.0.0.1:8000")
    except ListenAddressError as error:
        print(error, file=sys.stderr)
        return 2
    machine = machine_names() if _is_wildcard(host) else []
    print(",".join(allowed_hosts(host, machine)))
    print(url(host, port, machine))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
