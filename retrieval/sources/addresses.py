"""Which network addresses a source may be fetched from: public ones only, by default."""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_SETTING = "NEWSBOT_FETCH_ALLOW_PRIVATE_NETWORKS"
# The well-known NAT64 prefix: its addresses stand for the IPv4 address in the last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_kind(address: str) -> str | None:
    """The kind of a non-public ``address`` (an IP literal): 'loopback', ...; None if public.

    Loopback, private, link-local (cloud metadata services), unique-local, shared (CGNAT),
    multicast, reserved and documentation ranges are refused, for IPv4 and IPv6 alike, and
    IPv6 forms that embed an IPv4 address (mapped, 6to4, NAT64) are judged by that address.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    return _kind(_embedded(ip))


def refusal(host: str, address: str, kind: str) -> str:
    """Why a source was refused, naming the setting that would allow it."""
    what = address if host.strip("[]") == address else f"{host} ({address})"
    return f"refused: {what} is a {kind} address (set {ALLOW_SETTING}=true to allow it)"


def _embedded(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries, if it carries one; else the address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _kind(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"):
        return "unique-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_private:
        return "private"
    if not ip.is_global:  # shared address space (100.64/10) and the like
        return "non-public"
    return None
