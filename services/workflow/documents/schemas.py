"""The documents an applicant gets from a case, as the API lists and serves them."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field


class DocumentKind(StrEnum):
    one_time_notice = "one_time_notice"  # 一次性告知书
    acceptance_notice = "acceptance_notice"  # 受理通知书
    decision = "decision"  # 准予/不予行政许可决定书
    registration_certificate = "registration_certificate"  # 登记证书


class DocumentOut(BaseModel):
    kind: DocumentKind
    title: str = Field(examples=["一次性告知书"])
    number: str = Field(
        description="The document number (文号)", examples=["庐民告〔2026〕1A2B3C4D号"]
    )
    issued_on: date = Field(description="The date of issue, in Asia/Shanghai")
    url: str = Field(description="Where to download the PDF")


class CertificateData(BaseModel):
    """What the registration certificate (登记证书) of an approved registration states."""

    certificate_number: str
    organization_name: str
    case_id: uuid.UUID
    case_number: str
    applicant_org_id: str | None
    issuing_authority: str
    issued_on: date
    decision_number: str
