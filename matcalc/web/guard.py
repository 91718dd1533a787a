"""Which requests the workbench accepts at all: its own host names, its own origin, JSON bodies.

A page on another site can make a browser send requests to a server on ``localhost``; three
rules keep them out (docs/guide.md, "Hosts and origins"):

- **Host.** The ``Host`` header names a host the server serves: ``localhost``, ``127.0.0.1``,
  ``[::1]``, the address it listens on, the address the connection arrived at (an IP address,
  never a name), and the names given with ``--allow-host``.  A page whose name was rebound to
  127.0.0.1 (DNS rebinding) sends its own name and gets 421.
- **Origin.** A request that carries an ``Origin`` (every cross-site request a browser sends
  does) is served only when that origin's host and port are the ``Host`` it was sent to: a
  foreign origin, or ``null``, gets 403.
- **Content type.** A request that changes or computes something (any method but GET, HEAD and
  OPTIONS) declares ``Content-Type: application/json``, else 415: the "simple" requests a page
  may send cross-site without asking first (text/plain, forms) are never served.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from .compute import error

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(authority: str) -> str:
    """The host of ``host[:port]`` (brackets of an IPv6 address dropped), lower case."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        # ``[address]`` or ``[address]:port``; anything else after the bracket is no host
        address, bracket, rest = authority[1:].partition("]")
        if bracket and (not rest or (rest[:1] == ":" and rest[1:].isdigit())):
            return address
        return authority
    if authority.count(":") == 1:
        return authority.split(":", 1)[0]
    return authority


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class RequestGuard:
    """Refuses what the module's docstring says; ``hosts`` are the names served beside the
    local ones (the listening address, ``--allow-host``)."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str] = ()):
        self.app = app
        self.hosts = LOCAL_HOSTS | {host_name(host) for host in hosts} - ANY_ADDRESS

    def allowed_host(self, name: str, scope: Scope) -> bool:
        if name in self.hosts:
            return True
        # the address this connection arrived at, written as an address (never a name): a
        # class reaching --host 0.0.0.0 at http://192.168.1.5:8000/
        server = scope.get("server")
        return bool(server) and _is_address(name) and _is_address(str(server[0])) and \
            ipaddress.ip_address(name) == ipaddress.ip_address(str(server[0]))

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        """(status, kind, message) when the request is refused, else None."""
        headers = {}
        for key, value in scope.get("headers", []):
            headers.setdefault(key.decode("latin-1"), value.decode("latin-1"))
        authority = headers.get("host", "")
        if not self.allowed_host(host_name(authority), scope):
            return 421, "HostError", (f"this server does not serve the host {authority!r}; "
                                      "matcalc serve --allow-host NAME serves another name")
        origin = headers.get("origin")
        if origin is not None:
            try:
                netloc = urlsplit(origin).netloc.lower()
            except ValueError:  # not a URL at all (an unclosed '[')
                netloc = None
            if origin == "null" or netloc != authority.strip().lower():
                return 403, "OriginError", (f"requests from the page {origin!r} are refused: "
                                            "only the workbench's own pages may call it")
        if scope["method"] not in READ_ONLY_METHODS:
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media != "application/json":
                return 415, "ContentTypeError", ("the request body must be declared "
                                                 "Content-Type: application/json")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self.refusal(scope)
            if refused is not None:
                await error(*refused)(scope, receive, send)
                return
        await self.app(scope, receive, send)
