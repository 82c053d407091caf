"""Where webhooks may go: addresses on the internet, not the server's own network.

A company administrator registers the URL, and the delivery log shows the first characters of
the answer: without this guard, an administrator of one company could make the server call
its database, the cloud's metadata service or another internal system, and read the answer.
So the server refuses private, loopback, link-local and reserved addresses, twice: when the URL
is registered (an address written in the URL, ``localhost``), and when the connection is made
(the address the name resolved to, checked on the connected socket before a byte is sent, so a
name that resolves elsewhere later is caught too).

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


def is_private(address: str) -> bool:
    """True for any address that is not a public internet address (loopback, private ranges,
    link-local, carrier-grade NAT, reserved, multicast, unspecified), IPv4 or IPv6."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is not the address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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


def _guarded_create_connection(address, *args, **kwargs) -> socket.socket:
    sock = socket.create_connection(address, *args, **kwargs)
    peer = sock.getpeername()[0]
    if not private_addresses_allowed() and is_private(peer):
        sock.close()
        raise PrivateAddressRefused(
            _("%(host)s is at %(address)s, a private address: webhooks go to systems on the "
              "internet") % {"host": address[0], "address": peer}
        )
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
