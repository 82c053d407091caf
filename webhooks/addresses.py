"""Where webhooks may go: addresses on the internet, not the server's own network.

A company administrator registers the URL, and the delivery log shows the first characters of
the answer: without this guard, an administrator of one company could make the server call
its database, the cloud's metadata service or another internal system, and read the answer.
So the server refuses private, loopback, link-local and reserved addresses (and IPv6 addresses
that carry one), when the URL is registered (an address written in the URL, ``localhost``), and
when the connection is made: every address the name resolves to is checked before connecting,
and the connected socket once more before a byte is sent (a name that resolves elsewhere in
between). The refusal does not name the address, so the delivery log maps nothing inside.

An operator whose receivers run on the internal network sets
``WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1`` (the tests do, for their receivers on 127.0.0.1).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class PrivateAddressRefused(OSError):
    """The connection reached an address webhooks may not go to (raised before sending)."""


# IPv6 ranges that carry an IPv4 address a gateway may forward to: NAT64 (well-known and local
# use), and the IPv4-compatible and IPv4-translated forms.
_CARRYING_IPV4 = tuple(ipaddress.ip_network(n) for n in (
    "64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96",
))


def is_private(address: str) -> bool:
    """True for any address that is not a public internet address (loopback, private ranges,
    link-local, carrier-grade NAT, reserved, multicast, unspecified), IPv4 or IPv6, and for an
    IPv6 address that carries one of those IPv4 addresses (mapped, 6to4, Teredo, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is not the address
    if isinstance(ip, ipaddress.IPv6Address):
        carried = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if any(network.overlaps(ipaddress.ip_network(ip)) for network in _CARRYING_IPV4):
            carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(v4 is not None and (not v4.is_global or v4.is_multicast) for v4 in carried):
            return True
    return not ip.is_global or ip.is_multicast


def private_addresses_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))


def url_refusal(url: str) -> str | None:
    """Why a URL may not be registered, judged from the URL alone, or None."""
    if private_addresses_allowed():
        return None
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return _("This URL points to this server (%(host)s): webhooks go to systems on the "
                 "internet.") % {"host": host}
    try:
        private = is_private(host)
    except ValueError:  # a name: judged when it is connected to
        return None
    if private:
        return _("This URL points to a private address (%(host)s): webhooks go to systems on "
                 "the internet.") % {"host": host}
    return None


def _refusal(host: str) -> PrivateAddressRefused:
    # The address is not named: the delivery log must not map the internal network.
    return PrivateAddressRefused(
        _("%(host)s leads to a private address: webhooks go to systems on the internet")
        % {"host": host}
    )


def _guarded_create_connection(address, *args, **kwargs) -> socket.socket:
    """``socket.create_connection`` that refuses private addresses before connecting (every
    address the name resolves to), and checks the connected peer again (a name that resolved
    elsewhere in between)."""
    if private_addresses_allowed():
        return socket.create_connection(address, *args, **kwargs)
    host, port = address[0], address[1]
    for *_rest, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if is_private(sockaddr[0]):
            raise _refusal(host)
    sock = socket.create_connection(address, *args, **kwargs)
    if is_private(sock.getpeername()[0]):
        sock.close()
        raise _refusal(host)
    return sock


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_create_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_create_connection  # checked before the TLS handshake


class GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_GuardedHTTPConnection, req)


class GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)
