"""Where webhooks may go: no loopback, private, link-local or metadata addresses (SSRF).

A subscriber chooses the URL we POST to, so without a check it could make our worker
reach the database, Redis, the cloud metadata service or anything on the internal
network. The rule (OWASP SSRF Prevention Cheat Sheet, "allowlist" and "DNS pinning"):

* every address a host resolves to must be globally routable, or on the operator's
  allowlist (`WEBHOOK_ALLOWED_NETWORKS`, or the host in `WEBHOOK_ALLOWED_HOSTS`:
  provincial systems on a government network live on private addresses);
* metadata endpoints are refused even when allowlisted: nothing legitimate lives there;
* the check runs at registration (a clear 422) and again at *connection* time, inside
  the HTTP transport: the address checked is the address connected to, so a DNS answer
  that changes between the check and the send (DNS rebinding) cannot slip through;
* plain `http://` only to allowlisted destinations (a government intranet); anything on
  the internet must be `https://`;
* no redirects (a 3xx is a failed attempt) and no proxy from the environment, either of
  which would send the request somewhere the check never saw.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable

from services.workflow.sync.config import IPNetwork, SyncSettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata services (AWS/GCP/Azure/OpenStack, AWS IPv6, ECS tasks, Alibaba
# and Tencent clouds): reaching one from a worker leaks credentials.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
# IPv6 ranges whose last 32 bits are an IPv4 address the packet may end up at: NAT64
# (RFC 6052, and RFC 8215's local-use prefix) and SIIT's IPv4-translated addresses.
_EMBEDS_IPV4 = tuple(
    ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96")
)


class DestinationRefused(Exception):
    """The URL or its addresses are not allowed; `code` says why (safe to show the owner)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv6 address (mapped, compatible, 6to4, NAT64), if any.

    `::ffff:127.0.0.1`, `::127.0.0.1`, `2002:7f00:1::` and `64:ff9b::7f00:1` all lead to
    loopback; Python's `is_global` calls several of them global.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if int(address) < 2**32:  # IPv4-compatible `::a.b.c.d` (and `::`, `::1`)
            return ipaddress.IPv4Address(int(address))
        if any(address in network for network in _EMBEDS_IPV4):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


@dataclass(frozen=True)
class AddressPolicy:
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    dns_timeout_seconds: float = 2.0

    @classmethod
    def from_settings(cls, settings: SyncSettings) -> AddressPolicy:
        return cls(
            allowed_hosts=frozenset(settings.allowed_hosts),
            allowed_networks=tuple(settings.allowed_networks),
            dns_timeout_seconds=settings.dns_timeout_seconds,
        )

    def host_allowlisted(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allowed_hosts

    def allowlisted(self, host: str, address: IPAddress) -> bool:
        plain = _unwrap(address)
        return self.host_allowlisted(host) or any(
            plain in network
            for network in self.allowed_networks
            if plain.version == network.version
        )

    def permits(self, host: str, address: IPAddress) -> bool:
        plain = _unwrap(address)
        if plain in METADATA_ADDRESSES or address in METADATA_ADDRESSES:
            return False
        if self.allowlisted(host, address):
            return True
        # Deprecated IPv6 site-local (fec0::/10) is private in all but Python's opinion.
        site_local = isinstance(plain, ipaddress.IPv6Address) and plain.is_site_local
        return plain.is_global and not plain.is_multicast and not site_local

    async def resolve(self, host: str, port: int) -> list[str]:
        """Every address of `host`, all permitted, or `DestinationRefused`."""
        addresses = await self._addresses(host, port)
        if not addresses:
            raise DestinationRefused("url_unresolvable", "The host does not resolve")
        for address in addresses:
            if not self.permits(host, address):
                raise DestinationRefused(
                    "url_address_refused",
                    "The host resolves to a loopback, private, link-local or metadata address",
                )
        return [str(address) for address in addresses]

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        bare = host.strip("[]")
        try:
            return [ipaddress.ip_address(bare)]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(bare, port, type=socket.SOCK_STREAM),
                timeout=self.dns_timeout_seconds,
            )
        except (OSError, TimeoutError, ValueError):  # ValueError: IDNA, embedded NUL
            raise DestinationRefused("url_unresolvable", "The host does not resolve") from None
        unique: dict[IPAddress, None] = {}
        for _family, _type, _proto, _name, sockaddr in infos:
            # Strip an IPv6 zone (`fe80::1%eth0`): link-local either way.
            unique[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
        return list(unique)


async def check_destination(url: str, policy: AddressPolicy) -> None:
    """Refuse a webhook URL that we must never POST to (registration and update)."""
    try:
        parsed = httpx.URL(url)
        # The ASCII (punycode) form: what DNS and the transport use, and what to allowlist.
        host = parsed.raw_host.decode("ascii")
        scheme, port, userinfo, fragment = (
            parsed.scheme,
            parsed.port,
            parsed.userinfo,
            parsed.fragment,
        )
    except (httpx.InvalidURL, TypeError, ValueError):  # IDNA errors are ValueErrors too
        raise DestinationRefused("url_invalid", "The URL is not valid") from None
    if scheme not in ("http", "https") or not host:
        raise DestinationRefused("url_scheme", "Only http:// and https:// URLs are accepted")
    if userinfo:
        # Credentials in a URL end up in logs and screens; use the signature instead.
        raise DestinationRefused("url_credentials", "The URL must not carry credentials")
    if fragment or (port is not None and not 0 < port < 65536):
        raise DestinationRefused("url_invalid", "The URL has a fragment or an invalid port")
    addresses = await policy.resolve(host, port or (443 if scheme == "https" else 80))
    if scheme == "http" and not all(
        policy.allowlisted(host, ipaddress.ip_address(a)) for a in addresses
    ):
        raise DestinationRefused(
            "url_https_required", "Endpoints outside the operator's allowlist must use https://"
        )


class _CheapLivenessStream(httpcore.AsyncNetworkStream):
    """A connection's stream whose "is the idle socket readable?" check is cheap.

    httpcore asks that of every idle connection in the pool, twice per request (to
    spot a receiver that closed a kept-alive connection). anyio's stream answers it by
    rebuilding its attribute table, `getpeername()` included, each time: with 20
    connections that was a tenth of the worker's CPU. The raw socket never changes for
    the life of the stream (TLS wraps the same one), so it is looked up once; the check
    itself is httpcore's own `is_socket_readable`, unchanged.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream, raw: socket.socket | None) -> None:
        self._inner = inner
        self._raw = raw

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        wrapped = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _CheapLivenessStream(wrapped, self._raw)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return is_socket_readable(self._raw)
        if info == "socket":
            return self._raw
        return self._inner.get_extra_info(info)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to the checked address itself (DNS pinning)."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    # The signatures are httpcore's (`timeout` included), so ASYNC109 does not apply.
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.policy.resolve(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
                return _CheapLivenessStream(stream, stream.get_extra_info("socket"))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationRefused("url_address_refused", "Unix sockets are never a destination")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_client(
    policy: AddressPolicy, *, timeout: float, max_connections: int
) -> httpx.AsyncClient:
    """An httpx client whose every connection goes through the address policy."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    transport = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
    # httpx 0.28 has no public hook for the network backend: swap the pool it built for
    # one with ours (same settings). tests/workflow/sync/test_ssrf.py fails if this breaks.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedNetworkBackend(policy),
    )
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    )
