"""Query parameters shared by the search and the export of organizations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import StringConstraints

from services.registry.enums import (
    Category,
    EvaluationGrade,
    IncubationStage,
    InspectionResult,
    OrganizationKind,
    OrganizationStatus,
    Registration,
)
from services.registry.organizations.repository import OrganizationFilters
from shared.dates import CalendarDate
from shared.errors import FieldError, Unprocessable

_MANY = "Repeat the parameter to match any of several values"


def _filters(
    name: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Name substring")
    ] = None,
    uscc_prefix: Annotated[str | None, Query(max_length=18, pattern=r"^[0-9A-Za-z]+$")] = None,
    filing_number: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[list[OrganizationKind] | None, Query(description=_MANY)] = None,
    registration: Annotated[list[Registration] | None, Query(description=_MANY)] = None,
    category: Annotated[list[Category] | None, Query(description=_MANY)] = None,
    status: Annotated[list[OrganizationStatus] | None, Query(description=_MANY)] = None,
    evaluation_grade: Annotated[list[EvaluationGrade] | None, Query(description=_MANY)] = None,
    incubation_stage: Annotated[list[IncubationStage] | None, Query(description=_MANY)] = None,
    district_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    street_code: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^\d{9}$")]] | None,
        Query(description=_MANY),
    ] = None,
    community_code: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    inspection_year: Annotated[
        int | None,
        Query(ge=2000, le=2100, description="Organizations with an annual inspection that year"),
    ] = None,
    inspection_result: Annotated[
        list[InspectionResult] | None,
        Query(description="With `inspection_year`: its concluded result. " + _MANY),
    ] = None,
    established_from: CalendarDate | None = None,
    established_until: CalendarDate | None = None,
) -> OrganizationFilters:
    if inspection_result and inspection_year is None:
        raise Unprocessable(
            "inspection_result needs inspection_year",
            code="inspection_year_required",
            errors=[
                FieldError(
                    field="query.inspection_year",
                    message="Required with inspection_result",
                    code="missing",
                )
            ],
        )
    return OrganizationFilters(
        name=name,
        uscc_prefix=uscc_prefix,
        filing_number=filing_number,
        kinds=tuple(kind or ()),
        registrations=tuple(registration or ()),
        categories=tuple(category or ()),
        statuses=tuple(status or ()),
        grades=tuple(evaluation_grade or ()),
        incubation_stages=tuple(incubation_stage or ()),
        district_code=district_code,
        street_codes=tuple(street_code or ()),
        community_code=community_code,
        tag=tag,
        inspection_year=inspection_year,
        inspection_results=tuple(inspection_result or ()),
        established_from=established_from,
        established_until=established_until,
    )


FiltersDep = Annotated[OrganizationFilters, Depends(_filters)]
