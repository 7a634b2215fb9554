"""RS256 tokens verified against a JWKS URL (an identity provider on loopback)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.auth import Role, decode_token
from shared.errors import Unauthorized
from shared.settings import Settings, get_settings

_PROVIDER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(_PROVIDER_KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "provider-1", "use": "sig", "alg": "RS256"}]})

    class JWKS(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), JWKS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        thread.join()


def _rs256_settings(jwks_url: str) -> Settings:
    return get_settings().model_copy(update={"jwt_algorithm": "RS256", "jwt_jwks_url": jwks_url})


def _token(key: rsa.RSAPrivateKey, settings: Settings, **claims: Any) -> str:
    payload = {
        "sub": "alice",
        "role": "auditor",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": datetime.now(UTC) + timedelta(minutes=5),
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "provider-1"})


def test_a_token_signed_by_the_provider_is_accepted(jwks_url: str) -> None:
    settings = _rs256_settings(jwks_url)
    principal = decode_token(
        _token(_PROVIDER_KEY, settings, role="street_office", street_code="340103001"), settings
    )
    assert principal.sub == "alice"
    assert principal.role is Role.street_office
    assert principal.street_code == "340103001"


def test_a_token_signed_by_another_key_is_refused(jwks_url: str) -> None:
    settings = _rs256_settings(jwks_url)
    with pytest.raises(Unauthorized) as refused:
        decode_token(_token(_OTHER_KEY, settings), settings)
    assert refused.value.code == "token_invalid"


def test_an_hs256_token_is_refused_when_rs256_is_configured(jwks_url: str) -> None:
    settings = _rs256_settings(jwks_url)
    forged = jwt.encode(
        {
            "sub": "mallory",
            "role": "civil_affairs",
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        },
        settings.jwt_secret,
        algorithm="HS256",
        headers={"kid": "provider-1"},
    )
    with pytest.raises(Unauthorized) as refused:
        decode_token(forged, settings)
    assert refused.value.code == "token_invalid"
