"""Typed async HTTP clients for service-to-service calls.

Every call carries a service token and the current request id, has a timeout, and — when
it is safe to repeat (GET/PUT/DELETE, or a POST with an `Idempotency-Key`) — is retried
with exponential backoff on connection errors, timeouts, 502/503/504 and 429.
A non-2xx answer raises `ServiceCallError` carrying the callee's problem details.

Hierarchy::

    ServiceCallError            the callee answered with an error (status, problem)
    └── ServiceUnavailable      no usable answer after the retries (network, 5xx)
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel

from shared.auth import Role, mint_token
from shared.backoff import backoff_seconds, jittered
from shared.interservice import (
    AdmissionCriteria,
    CaseOutcome,
    CaseSummary,
    Eligibility,
    FundSummary,
    OrganizationSummary,
)
from shared.request_context import REQUEST_ID_HEADER, current_request_id
from shared.settings import Settings, get_settings

logger = logging.getLogger("sanshe.clients")

M = TypeVar("M", bound=BaseModel)

_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_TOKEN_REFRESH_MARGIN_SECONDS = 300


class ServiceCallError(Exception):
    def __init__(self, service: str, status: int, problem: dict[str, Any] | None) -> None:
        code = (problem or {}).get("code", "unknown")
        super().__init__(f"{service} answered {status} ({code})")
        self.service = service
        self.status = status
        self.problem = problem or {}
        self.code = code


class ServiceUnavailable(ServiceCallError):
    pass


class ServiceToken:
    """A service-role token, minted locally (HS256) and renewed before it expires."""

    def __init__(self, caller: str, settings: Settings) -> None:
        self.caller = caller
        self.settings = settings
        self._token: str | None = settings.service_token
        self._expires_at = float("inf") if settings.service_token else 0.0

    def value(self) -> str:
        if self._token is None or time.monotonic() > self._expires_at:
            ttl = self.settings.dev_token_ttl_seconds
            self._token = mint_token(
                sub=f"service:{self.caller}", role=Role.service, settings=self.settings
            )
            self._expires_at = time.monotonic() + ttl - _TOKEN_REFRESH_MARGIN_SECONDS
        return self._token


class ServiceClient:
    """Base of the typed clients: one per callee, reused for the process lifetime."""

    service = "service"

    def __init__(
        self,
        base_url: str,
        *,
        caller: str,
        settings: Settings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self._token = ServiceToken(caller, self.settings)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=self.settings.http_timeout_seconds,
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self._token.value()}",
            REQUEST_ID_HEADER: current_request_id() or uuid.uuid4().hex,
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        retryable = method.upper() in _IDEMPOTENT_METHODS or idempotency_key is not None
        attempts = 1 + (self.settings.http_retries if retryable else 0)
        last_error: str = "no attempt"
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self._backoff(attempt))
            try:
                response = await self._http.request(
                    method, path, json=json, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                last_error = type(exc).__name__
                logger.warning(
                    "service call failed",
                    extra={
                        "callee": self.service,
                        "path": path,
                        "error": last_error,
                        "attempt": attempt + 1,
                    },
                )
                continue
            if response.status_code in _RETRYABLE_STATUS and attempt + 1 < attempts:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 500 or response.status_code in _RETRYABLE_STATUS:
                raise ServiceUnavailable(self.service, response.status_code, _problem(response))
            if response.status_code >= 400:
                raise ServiceCallError(self.service, response.status_code, _problem(response))
            return response
        raise ServiceUnavailable(self.service, 0, {"code": "unreachable", "detail": last_error})

    def _backoff(self, attempt: int) -> float:
        return jittered(backoff_seconds(attempt, base=self.settings.http_backoff_seconds))

    async def get_model(self, path: str, model: type[M], **params: Any) -> M:
        response = await self.request("GET", path, params=params or None)
        return model.model_validate(response.json())


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class RegistryClient(ServiceClient):
    service = "registry"

    async def get_organization(self, organization_id: uuid.UUID | str) -> OrganizationSummary:
        return await self.get_model(f"/api/v1/organizations/{organization_id}", OrganizationSummary)

    async def get_eligibility(
        self, organization_id: uuid.UUID | str, criteria: AdmissionCriteria | None = None
    ) -> Eligibility:
        return await self.get_model(
            f"/api/v1/organizations/{organization_id}/eligibility",
            Eligibility,
            **(criteria or AdmissionCriteria()).query(),
        )


async def post_case_outcome(client: ServiceClient, path: str, outcome: CaseOutcome) -> None:
    """Deliver a case's outcome to the service that owns its subject (idempotent per outcome)."""
    await client.request(
        "POST",
        path,
        json=outcome.model_dump(mode="json"),
        idempotency_key=f"{outcome.case_id}:{outcome.outcome}",
    )


class ProjectsClient(ServiceClient):
    service = "projects"

    async def get_fund(self, fund_id: uuid.UUID | str) -> FundSummary:
        return await self.get_model(f"/api/v1/funds/{fund_id}", FundSummary)


class WorkflowClient(ServiceClient):
    service = "workflow"

    async def department_has_task(
        self, *, department: str, subject_service: str, subject_type: str, subject_id: str
    ) -> bool:
        """Whether the department holds a review task (in any state) on a case of the subject."""
        response = await self.request(
            "GET",
            "/api/v1/cases",
            params={"subject_id": subject_id, "department": department, "page_size": 200},
        )
        cases = [CaseSummary.model_validate(item) for item in response.json()["items"]]
        return any(
            (case.subject_service, case.subject_type) == (subject_service, subject_type)
            for case in cases
        )


def registry_client(caller: str, settings: Settings | None = None) -> RegistryClient:
    settings = settings or get_settings()
    return RegistryClient(settings.registry_url, caller=caller, settings=settings)


def projects_client(caller: str, settings: Settings | None = None) -> ProjectsClient:
    settings = settings or get_settings()
    return ProjectsClient(settings.projects_url, caller=caller, settings=settings)


def workflow_client(caller: str, settings: Settings | None = None) -> WorkflowClient:
    settings = settings or get_settings()
    return WorkflowClient(settings.workflow_url, caller=caller, settings=settings)
