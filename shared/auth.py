"""Bearer-token authentication and role/scope authorization.

Tokens are JWTs with `sub`, `role` and scope claims (`org_id`, `street_code`,
`department`). HS256 with a shared secret by default; RS256 verified against a JWKS
URL when `JWT_ALGORITHM=RS256`. Only the configured algorithm is accepted, so a token
signed with another one (or `none`) is refused.

HS256 keys rotate without a hard cutover (JWT_SECRETS, `kid:secret` pairs): the first
key signs, with its `kid` in the token header; a token naming a kid is verified with that
key only, and one without a kid (minted with JWT_SECRET before rotation started) with
each key in turn. RS256 keys rotate in the JWKS, which PyJWKClient selects by kid.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import jwt
from cachetools import TLRUCache
from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from shared.errors import Forbidden, Unauthorized
from shared.settings import Settings, get_settings


class Role(StrEnum):
    civil_affairs = "civil_affairs"
    street_office = "street_office"
    department_reviewer = "department_reviewer"
    organization = "organization"
    evaluator = "evaluator"
    auditor = "auditor"
    provincial_system = "provincial_system"
    service = "service"


# The claim each scoped role must carry: a token of that role without it is refused.
REQUIRED_SCOPE = {
    Role.street_office: "street_code",
    Role.department_reviewer: "department",
    Role.organization: "org_id",
}


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    role: Role
    org_id: str | None = None
    street_code: str | None = None
    department: str | None = None

    @property
    def is_service(self) -> bool:
        return self.role is Role.service

    @property
    def identity(self) -> str:
        """The caller, as owner of what it sends again (idempotency keys, command ids).

        Every claim that decides what the caller may do, not `sub` alone: one person may
        act for two organizations, and each must get its own replays. A digest of the
        claims as a JSON list: fixed length, and no claim can pass for another.
        """
        claims = [self.role.value, self.sub, self.org_id, self.street_code, self.department]
        return hashlib.sha256(json.dumps(claims).encode()).hexdigest()


def mint_token(
    *,
    sub: str,
    role: Role,
    org_id: str | None = None,
    street_code: str | None = None,
    department: str | None = None,
    ttl: timedelta | None = None,
    settings: Settings | None = None,
) -> str:
    """An HS256 token for development, tests and service-to-service calls."""
    settings = settings or get_settings()
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl or timedelta(seconds=settings.dev_token_ttl_seconds)),
        "jti": uuid.uuid4().hex,
    }
    for name, value in (
        ("org_id", org_id),
        ("street_code", street_code),
        ("department", department),
    ):
        if value is not None:
            claims[name] = value
    kid, secret = settings.jwt_keys[0]
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


@lru_cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


def _verification_keys(token: str, settings: Settings) -> list[Any]:
    """The keys that may have signed the token: one, or with HS256 and no kid, each key."""
    if settings.jwt_algorithm == "RS256":
        if not settings.jwt_jwks_url:
            raise Unauthorized("RS256 tokens need JWT_JWKS_URL", code="auth_misconfigured")
        return [_jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key]
    kid = jwt.get_unverified_header(token).get("kid")
    if kid is None:
        return [secret for _, secret in settings.jwt_keys]
    return [secret for known, secret in settings.jwt_keys if known == kid]


def decode_token(token: str, settings: Settings | None = None) -> Principal:
    return _verify(token, settings or get_settings())[0]


def _verify(token: str, settings: Settings) -> tuple[Principal, float]:
    """The token's principal and the epoch second after which it is refused."""
    try:
        keys = _verification_keys(token, settings)
        if not keys:  # a kid this process does not hold (retired, or never issued)
            raise jwt.InvalidTokenError("unknown kid")
        for index, key in enumerate(keys):
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=[settings.jwt_algorithm],
                    audience=settings.jwt_audience,
                    issuer=settings.jwt_issuer,
                    leeway=settings.jwt_leeway_seconds,
                    options={"require": ["sub", "exp", "role"]},
                )
                break
            except jwt.InvalidSignatureError:
                if index == len(keys) - 1:
                    raise
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired", code="token_expired") from None
    except (jwt.InvalidTokenError, jwt.PyJWKClientError):
        raise Unauthorized("The token is invalid", code="token_invalid") from None
    try:
        role = Role(claims["role"])
    except ValueError:
        raise Unauthorized("The token names an unknown role", code="token_invalid") from None
    principal = Principal(
        sub=str(claims["sub"]),
        role=role,
        org_id=_optional_str(claims.get("org_id")),
        street_code=_optional_str(claims.get("street_code")),
        department=_optional_str(claims.get("department")),
    )
    scope_claim = REQUIRED_SCOPE.get(role)
    if scope_claim and not getattr(principal, scope_claim):
        raise Unauthorized(f"A {role} token must carry `{scope_claim}`", code="token_scope_missing")
    return principal, float(claims["exp"]) + settings.jwt_leeway_seconds


# Tokens already verified, for a short while: a client sends the same token with every
# request, and checking it again (base64, JSON, HMAC or RSA, claims) was a tenth of a
# GET's CPU. Only successes are kept, each until its own expiry (so an expired token is
# still refused with `token_expired`) and at most `_VERIFIED_FOR` seconds (so a key
# removed from the JWKS stops working within that time). The key includes what the
# verification depended on, so changed settings never reuse an old verdict.
_VERIFIED_FOR = 60.0
_verified: TLRUCache[tuple[str, ...], tuple[Principal, float]] = TLRUCache(
    maxsize=4096,
    ttu=lambda _key, value, now: min(value[1], now + _VERIFIED_FOR),
    timer=time.time,
)


def _verified_key(token: str, settings: Settings) -> tuple[str, ...]:
    return (
        token,
        settings.jwt_algorithm,
        # The keys themselves, so a removed key stops verifying at once: a digest, so the
        # cache does not hold secrets in clear.
        _keys_digest(settings.jwt_secret, settings.jwt_secrets),
        settings.jwt_jwks_url or "",
        settings.jwt_audience or "",
        settings.jwt_issuer or "",
    )


@lru_cache(maxsize=16)
def _keys_digest(secret: str, secrets: str | None) -> str:
    return hashlib.sha256(json.dumps([secret, secrets]).encode()).hexdigest()


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


class _BearerPrincipal(HTTPBearer):
    """The bearer scheme and the token's principal as one dependency.

    FastAPI solves each level of a dependency tree anew on every request (its cache keys,
    its parameters, its errors): the scheme as a sub-dependency of the principal was a
    level of that per request. As a scheme itself it is still declared the same in the
    OpenAPI document (`HTTPBearer`, named so explicitly).
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        credentials = await super().__call__(request)  # None: missing, or not Bearer
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized("A bearer token is required", code="token_missing")
        token = credentials.credentials
        settings = get_settings()
        key = _verified_key(token, settings)
        if (verified := _verified.get(key)) is None:
            if settings.jwt_algorithm == "RS256":
                # PyJWKClient fetches keys synchronously; keep the event loop free.
                verified = await asyncio.to_thread(_verify, token, settings)
            else:
                verified = _verify(token, settings)
            _verified[key] = verified
        return verified[0]


current_principal = _BearerPrincipal(
    auto_error=False, scheme_name="HTTPBearer", description="JWT issued for a Sanshe role"
)
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def allow(*roles: Role) -> Any:
    """A route-level gate: `@router.get(..., dependencies=[allow(Role.auditor, ...)])`.

    It runs before the body is validated, so a caller of the wrong role gets 403 whatever
    it sends; finer scope rules (street, department, own organization) stay in services.
    """
    return Depends(require_roles(*roles))


# Every role gate made by `require_roles`, with the roles it admits: the OpenAPI document
# reads a route's dependencies against it to declare who may call it (`x-roles`).
ROLE_GATES: dict[Callable[..., Any], frozenset[Role]] = {}


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting only the given roles (403 for any other authenticated one)."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"Role {principal.role} may not do this",
                code="role_forbidden",
            )
        return principal

    ROLE_GATES[dependency] = allowed
    return dependency
