"""SSRF: endpoint URLs that reach loopback, private, link-local or metadata addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.workflow.sync import dependencies
from services.workflow.sync.config import SyncSettings
from services.workflow.sync.ssrf import (
    AddressPolicy,
    DestinationRefused,
    check_destination,
    guarded_client,
)
from tests.support.receiver import Receiver
from tests.workflow.sync.helpers import (
    DeliverPass,
    FakeClock,
    append,
    attempts,
    deliveries,
    envelope,
    register,
)

STRICT = AddressPolicy()  # no allowlist: what production has unless an operator says otherwise


class TestRegistrationCheck:
    @pytest.mark.parametrize(
        ("url", "code"),
        [
            ("https://127.0.0.1/hook", "url_address_refused"),
            ("https://localhost:8443/hook", "url_address_refused"),  # a name for loopback
            ("https://10.1.2.3/hook", "url_address_refused"),
            ("https://172.16.0.9/hook", "url_address_refused"),
            ("https://192.168.1.20/hook", "url_address_refused"),
            ("https://100.64.0.1/hook", "url_address_refused"),  # carrier-grade NAT
            ("https://169.254.169.254/latest/meta-data/", "url_address_refused"),
            ("https://100.100.100.200/latest/meta-data/", "url_address_refused"),  # Alibaba Cloud
            ("https://[::1]/hook", "url_address_refused"),
            ("https://[::ffff:127.0.0.1]/hook", "url_address_refused"),  # IPv4-mapped
            ("https://[64:ff9b::a01:203]/hook", "url_address_refused"),  # NAT64 of 10.1.2.3
            ("https://[64:ff9b:1::a01:203]/hook", "url_address_refused"),  # local-use NAT64
            ("https://[::ffff:0:7f00:1]/hook", "url_address_refused"),  # IPv4-translated
            ("https://[::127.0.0.1]/hook", "url_address_refused"),  # IPv4-compatible
            ("https://[2002:7f00:1::]/hook", "url_address_refused"),  # 6to4 of 127.0.0.1
            ("https://[2002:a9fe:a9fe::]/hook", "url_address_refused"),  # 6to4 of metadata
            ("https://[fec0::1]/hook", "url_address_refused"),  # site-local
            ("https://[fe80::1]/hook", "url_address_refused"),
            ("https://[fd00:ec2::254]/hook", "url_address_refused"),
            ("https://0.0.0.0/hook", "url_address_refused"),
            ("https://224.0.0.1/hook", "url_address_refused"),  # multicast
            ("http://93.184.216.34/hook", "url_https_required"),
            ("https://user:secret@93.184.216.34/hook", "url_credentials"),
            ("ftp://93.184.216.34/hook", "url_scheme"),
            ("file:///etc/passwd", "url_scheme"),
            ("https://no-such-host.invalid/hook", "url_unresolvable"),
        ],
    )
    async def test_refused_without_an_allowlist(self, url: str, code: str) -> None:
        with pytest.raises(DestinationRefused) as refused:
            await check_destination(url, STRICT)
        assert refused.value.code == code

    @pytest.mark.parametrize(
        "url",
        [
            "https://93.184.216.34/hook",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
            "https://[2002:5db8:d822::1]/hook",  # 6to4 of a public address
        ],
    )
    async def test_a_public_https_address_is_accepted(self, url: str) -> None:
        await check_destination(url, STRICT)

    async def test_the_operator_allowlist_admits_government_networks_but_never_metadata(
        self,
    ) -> None:
        policy = AddressPolicy(
            allowed_hosts=frozenset({"localhost"}),
            allowed_networks=(
                ipaddress.ip_network("10.0.0.0/8"),
                ipaddress.ip_network("169.254.0.0/16"),
            ),
        )
        await check_destination("http://10.20.30.40:8080/sync", policy)  # http on an intranet
        await check_destination("https://localhost/hook", policy)
        await check_destination("https://[::ffff:10.0.0.1]/hook", policy)
        with pytest.raises(DestinationRefused):
            await check_destination("https://169.254.169.254/", policy)
        with pytest.raises(DestinationRefused):
            await check_destination("https://192.168.0.1/", policy)

    def test_settings_read_comma_separated_lists(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", "Sync.AH.gov.cn., gw.zj.gov.cn")
        monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8, fd12::/16")
        settings = SyncSettings()
        assert settings.allowed_hosts == ["sync.ah.gov.cn", "gw.zj.gov.cn"]
        assert [str(n) for n in settings.allowed_networks] == ["10.0.0.0/8", "fd12::/16"]


@pytest.fixture
def strict_api(sync_app: FastAPI) -> Iterator[None]:
    sync_app.dependency_overrides[dependencies.address_policy] = lambda: STRICT
    yield
    del sync_app.dependency_overrides[dependencies.address_policy]


async def test_the_api_refuses_to_register_or_move_an_endpoint_to_loopback(
    api: httpx.AsyncClient, civil: dict[str, str], receiver: Receiver, strict_api: None
) -> None:
    refused = await api.post(
        "/api/v1/webhooks/endpoints", json={"url": f"{receiver.url}/hook"}, headers=civil
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "url_address_refused"
    assert refused.json()["errors"][0]["field"] == "body.url"
    metadata = await api.post(
        "/api/v1/webhooks/endpoints",
        json={"url": "http://169.254.169.254/latest/meta-data/iam"},
        headers=civil,
    )
    assert metadata.status_code == 422

    # Registered on a public address, it cannot be moved to loopback afterwards either.
    public = await register(api, civil, "https://93.184.216.34/hook")
    path = f"/api/v1/webhooks/endpoints/{public['id']}"
    moved = await api.patch(
        path,
        json={"url": f"{receiver.url}/hook"},
        headers={**civil, "If-Match": f'"{public["version"]}"'},
    )
    assert moved.status_code == 422
    assert moved.json()["code"] == "url_address_refused"
    unchanged = await api.get(path, headers=civil)
    assert unchanged.json()["url"] == "https://93.184.216.34/hook"
    assert unchanged.headers["ETag"] == f'"{public["version"]}"'


async def test_the_address_is_checked_again_at_send_time(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    receiver: Receiver,
    sync_settings: SyncSettings,
    clock: FakeClock,
) -> None:
    """Allowed when registered, refused when sent (the allowlist changed, or DNS did)."""
    endpoint = await register(api, civil, f"{receiver.url}/hook")
    await append(envelope(), now=clock())
    strict = DeliverPass(sync_settings.model_copy(update={"allowed_networks": []}), clock)
    try:
        assert (await strict())["sent"] == 1
    finally:
        await strict.aclose()
    (row,) = await deliveries(endpoint["id"])
    (attempt,) = await attempts(row.id)
    assert attempt.error == "address_refused"
    assert attempt.status_code is None
    assert row.status.value == "pending"  # retried later, and checked again then
    assert receiver.requests == []


async def test_the_guarded_client_refuses_to_connect_whatever_the_caller_asks(
    receiver: Receiver,
) -> None:
    async with guarded_client(STRICT, timeout=2, max_connections=1) as client:
        with pytest.raises(DestinationRefused):
            await client.post(f"http://localhost:{receiver.port}/x", content=b"{}")
        with pytest.raises(DestinationRefused):
            await client.get(f"http://127.0.0.1:{receiver.port}/x")
    assert receiver.requests == []
    allowing = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    async with guarded_client(allowing, timeout=2, max_connections=1) as client:
        assert (await client.post(f"{receiver.url}/x", content=b"{}")).status_code == 200


async def test_dns_rebinding_cannot_slip_between_the_check_and_the_connection(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name resolves to an allowed address when checked, to loopback when sent.

    The transport checks the addresses it resolves at connection time and connects to
    exactly those (it never lets the socket layer resolve the name again).
    """
    answers = iter(["10.20.30.40", "127.0.0.1", "127.0.0.1"])
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return await real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    url = f"http://rebind.test:{receiver.port}/hook"
    # A government intranet the operator allowlisted; loopback is not in it.
    intranet = AddressPolicy(allowed_networks=(ipaddress.ip_network("10.20.0.0/16"),))
    await check_destination(url, intranet)  # registration: 10.20.30.40, accepted
    async with guarded_client(intranet, timeout=2, max_connections=1) as client:
        with pytest.raises(DestinationRefused):
            await client.post(url, content=b"{}")  # send: now 127.0.0.1, refused
    assert receiver.requests == []

    # And what was checked is what is connected to: `rebind.test` exists in no DNS, yet
    # the request reaches the receiver, through the address the policy resolved.
    loopback = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    async with guarded_client(loopback, timeout=2, max_connections=1) as client:
        assert (await client.post(url, content=b"{}")).status_code == 200
    (request,) = receiver.requests
    assert request.headers["host"] == f"rebind.test:{receiver.port}"


async def test_a_kept_alive_connection_the_receiver_closed_is_not_reused() -> None:
    """The pinned stream answers httpcore's "is the idle socket readable?" itself.

    The receiver answers with keep-alive, then closes the connection. The next request
    must notice (the socket reads EOF) and open a new connection, rather than write to
    the dead one and fail with "server disconnected".
    """
    connections = 0
    closed = asyncio.Event()

    async def answer_once_then_close(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections
        connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}")
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    server = await asyncio.start_server(answer_once_then_close, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loopback = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    try:
        async with guarded_client(loopback, timeout=5, max_connections=1) as client:
            url = f"http://127.0.0.1:{port}/hook"
            assert (await client.post(url, content=b"{}")).status_code == 200
            await asyncio.wait_for(closed.wait(), 5)
            closed.clear()
            assert (await client.post(url, content=b"{}")).status_code == 200
    finally:
        server.close()
        await server.wait_closed()
    assert connections == 2
