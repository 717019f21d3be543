"""The client's address: the socket peer, or behind trusted reverse proxies the address
they forwarded. The per-client SMS caps and login records use it.

X-Forwarded-For is read from the right: each trusted proxy appends the address it got the
request from, so the first address from the right that is not a trusted proxy is the
client. Anything left of it may have been written by the client and is never believed.
"""

import ipaddress
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """ZC_TRUSTED_PROXIES as networks; a bad entry is a start-up error, not a silent miss."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in setting.split(",")
        if part.strip()
    )


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    if not trusted or not forwarded_for or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
    return hops[0] if hops else peer  # every hop a proxy of ours: the first is the client


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
