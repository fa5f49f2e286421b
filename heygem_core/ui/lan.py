"""The addresses colleagues can open: every IPv4 address of this machine's network interfaces.

A host name (``http://vm:7861/``) often does not resolve on other machines, so `heygem serve` prints one
address per interface instead, each with the login token.
"""
from __future__ import annotations

import ipaddress
import socket
import struct

WILDCARDS = ("0.0.0.0", "::", "")


def _interface_ipv4() -> list[str]:
    """IPv4 addresses of the network interfaces (Linux: SIOCGIFADDR per interface; elsewhere: none)."""
    try:
        import fcntl
    except ImportError:          # not Linux/Unix
        return []
    found = []
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
            except OSError:      # interface without an IPv4 address
                continue
        found.append(socket.inet_ntoa(packed[20:24]))
    return found


def _resolved_ipv4() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return [info[4][0] for info in infos]


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses others may reach: private ones first, loopback and link-local left out."""
    seen: dict[str, None] = {}
    for ip in _interface_ipv4() + _resolved_ipv4():
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            continue
        if addr.is_loopback or addr.is_link_local or addr.is_unspecified:
            continue
        seen.setdefault(ip, None)
    return sorted(seen, key=lambda ip: (not ipaddress.ip_address(ip).is_private, ip))


def page_urls(ip: str, port: int, token: str) -> list[str]:
    """The page's addresses, token included: one per reachable address for a wildcard bind, else the one."""
    query = f"?token={token}" if token else ""
    if ip in WILDCARDS:
        hosts = lan_addresses() or [socket.gethostname()]
    else:
        hosts = [f"[{ip}]" if ":" in ip else ip]
    return [f"http://{host}:{port}/{query}" for host in hosts]
