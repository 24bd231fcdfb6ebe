"""Webhook URLs cannot turn the platform against its own network (issue 17, finding 2): names are
resolved and every address vetted, at registration and at every delivery; a delivery connects to the
address it vetted (one resolution), follows no redirect, and logs a class of failure, not the socket's."""

from __future__ import annotations

import ipaddress
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.principal import Principal
from app.core.security import Crypto
from app.webhooks import delivery, outbound, service
from tests.webhooks.receiver import receiver
from tests.webhooks.test_delivery import POLICY, _delivery, _emit, _endpoint

SETUP = Principal(type="system", id="test-setup")
DNS = {
    "bank.example": ["93.184.215.14"],
    "internal.bank.example": ["127.0.0.1"],
    "split.bank.example": ["93.184.215.14", "10.1.2.3"],
    "metadata.bank.example": ["169.254.169.254"],
    "mapped.bank.example": ["::ffff:127.0.0.1"],
}


def fake_dns(host: str, port: int) -> list[outbound.Address]:
    """A resolver with the answers above (literal addresses are themselves); no answer for other names."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return [ipaddress.ip_address(a) for a in DNS.get(host, [])]


@pytest.fixture
def production(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private_urls": False})


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://localhost./hooks", "webhook_url_not_public"),
        ("https://LocalHost./hooks", "webhook_url_not_public"),
        ("https://internal.bank.example/hooks", "webhook_url_not_public"),  # a name resolving to 127.0.0.1
        ("https://split.bank.example/hooks", "webhook_url_not_public"),  # one private answer among public
        ("https://metadata.bank.example/hooks", "webhook_url_not_public"),
        ("https://mapped.bank.example/hooks", "webhook_url_not_public"),
        ("https://[::ffff:127.0.0.1]/hooks", "webhook_url_not_public"),  # IPv4-mapped
        ("https://[::ffff:a01:203]/hooks", "webhook_url_not_public"),  # IPv4-mapped 10.1.2.3
        ("https://[2002:7f00:1::1]/hooks", "webhook_url_not_public"),  # 6to4 of 127.0.0.1
        ("https://[fd12:3456::1]/hooks", "webhook_url_not_public"),  # IPv6 ULA
        ("https://[fe80::1]/hooks", "webhook_url_not_public"),  # link-local
        ("https://100.64.0.1/hooks", "webhook_url_not_public"),  # CGNAT
        ("https://169.254.169.254/latest", "webhook_url_not_public"),
        ("https://224.0.0.1/hooks", "webhook_url_not_public"),  # multicast
        ("https://240.0.0.1/hooks", "webhook_url_not_public"),  # reserved
        ("https://0.0.0.0/hooks", "webhook_url_not_public"),
        ("https://nowhere.bank.example/hooks", "webhook_url_unresolvable"),
    ],
)
def test_registration_refuses_urls_that_reach_the_platforms_own_network(
    production: Settings, url: str, code: str
) -> None:
    with pytest.raises(service.InvalidInput) as refused:
        service.check_url(url, production, resolver=fake_dns)
    assert (refused.value.code, refused.value.param) == (code, "url")


@pytest.mark.parametrize("url", ["https://2130706433/hooks", "https://127.1/hooks", "https://0x7f.1/hooks"])
def test_with_the_systems_resolver_numeric_spellings_of_loopback_are_refused(
    production: Settings, url: str
) -> None:
    # the C resolver reads these as 127.0.0.1 (inet_aton's legacy forms)
    with pytest.raises(service.InvalidInput) as refused:
        service.check_url(url, production)
    assert refused.value.code == "webhook_url_not_public"


def test_registration_accepts_a_name_with_public_addresses_only(production: Settings) -> None:
    assert service.check_url("https://bank.example/hooks", production, resolver=fake_dns) == (
        "https://bank.example/hooks"
    )


def _stored_endpoint(engine: Engine, settings: Settings, url: str) -> tuple[str, str]:
    """A committed bank endpoint with ``url`` as stored (registered while its name was public, say)."""
    partner_id, endpoint_id, _ = _endpoint(engine, settings, url)
    return partner_id, endpoint_id


def _deliver_with(engine: Engine, settings: Settings, client: object) -> None:
    now = utcnow()
    delivery.deliver_due(
        engine, Crypto(settings).cipher, POLICY, clock=lambda: now, client=client, budget_seconds=5
    )  # type: ignore[arg-type]


def test_a_name_that_now_resolves_to_loopback_gets_no_delivery_and_a_generic_error(
    committed_engine: Engine, settings: Settings
) -> None:
    with receiver() as (got, url):
        # given an endpoint whose name now resolves to the platform's own loopback, where a service listens
        port = urlsplit(url).port
        rebinding = {"name": f"rebind-{uuid.uuid4().hex[:8]}.bank.example", "calls": 0}

        def to_loopback(host: str, _port: int) -> list[outbound.Address]:
            rebinding["calls"] += 1
            return [ipaddress.ip_address("127.0.0.1")] if host == rebinding["name"] else []

        partner_id, _ = _stored_endpoint(
            committed_engine, settings, f"http://{rebinding['name']}:{port}/hooks"
        )
        _, delivery_id = _emit(committed_engine, partner_id, utcnow())
        # when the worker (production: no private targets) delivers
        with delivery.vetted_client(POLICY, allow_private=False, resolver=to_loopback) as client:
            _deliver_with(committed_engine, settings, client)
        # then nothing reached the listener, and the log says why in general terms
        assert got.requests == []
        found, attempts = _delivery(committed_engine, delivery_id)
        assert [(a.outcome, a.error) for a in attempts] == [
            ("network_error", "address not allowed: the host must resolve to public addresses only")
        ]
        assert found.status == "pending"


def test_a_delivery_connects_to_the_address_it_vetted_and_sends_the_name(
    committed_engine: Engine, settings: Settings
) -> None:
    with receiver() as (got, url):
        port = urlsplit(url).port
        name = f"pinned-{uuid.uuid4().hex[:8]}.bank.example"
        calls: list[str] = []

        def once(host: str, _port: int) -> list[outbound.Address]:
            calls.append(host)
            return [ipaddress.ip_address("127.0.0.1")] if host == name else []

        partner_id, _ = _stored_endpoint(committed_engine, settings, f"http://{name}:{port}/hooks")
        event_id, delivery_id = _emit(committed_engine, partner_id, utcnow())
        with delivery.vetted_client(POLICY, allow_private=True, resolver=once) as client:
            _deliver_with(committed_engine, settings, client)
        mine = [r for r in got.requests if r.headers["webhook-id"] == event_id]
        assert [r.headers["host"] for r in mine] == [f"{name}:{port}"]
        assert calls.count(name) == 1  # resolved once, and that answer is where it connected
        assert _delivery(committed_engine, delivery_id)[0].status == "succeeded"


def test_socket_errors_reach_the_log_as_a_class_only(committed_engine: Engine, settings: Settings) -> None:
    # given an endpoint on a port nobody listens on (development allows the loopback target)
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    partner_id, _ = _stored_endpoint(committed_engine, settings, f"http://127.0.0.1:{closed_port}/hooks")
    _, delivery_id = _emit(committed_engine, partner_id, utcnow())
    with delivery.vetted_client(POLICY, allow_private=True) as client:
        _deliver_with(committed_engine, settings, client)
    _, attempts = _delivery(committed_engine, delivery_id)
    assert [(a.outcome, a.error) for a in attempts] == [("network_error", "could not connect")]


def test_a_redirect_is_not_followed(committed_engine: Engine, settings: Settings) -> None:
    with receiver(status=302) as (got, url):
        partner_id, _ = _stored_endpoint(committed_engine, settings, url)
        event_id, delivery_id = _emit(committed_engine, partner_id, utcnow())
        with delivery.vetted_client(POLICY, allow_private=True) as client:
            _deliver_with(committed_engine, settings, client)
        assert len([r for r in got.requests if r.headers["webhook-id"] == event_id]) == 1
        _, attempts = _delivery(committed_engine, delivery_id)
        assert [(a.outcome, a.status_code) for a in attempts] == [("http_error", 302)]
