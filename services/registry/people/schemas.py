"""Staff and social workers, volunteers and their hours, party organizations, street
population and the people statistics, as the API takes and shows them.

ID numbers come in full and go out masked (`id_number`: `340103**********3X`).
Service time is integer minutes; hours and ratios are decimal strings.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.registry.enums import CertificateLevel, Employment, PartyOrganizationForm
from services.registry.people.models import MINUTES_PER_DAY
from shared.dates import CalendarDate

STREET = r"^\d{9}$"
# The national social-work examination was first held in 2008.
FIRST_CERTIFICATE_YEAR = 2008

PersonName = Annotated[str, Field(min_length=1, max_length=60, examples=["王芳"])]
IdNumberIn = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="Resident ID number (GB 11643), in full: stored only as a digest and a "
        "masked form, never shown again",
        examples=["11010519491231002X"],
    ),
]
StreetCode = Annotated[str, Field(pattern=STREET, examples=["340103001"])]
CertificateNumber = Annotated[
    str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z-]+$", examples=["S2019340100123"])
]
CertificateYear = Annotated[int, Field(ge=FIRST_CERTIFICATE_YEAR, le=2100, examples=[2019])]


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName
    id_number: IdNumberIn | None = Field(
        default=None, description="Required for a certified social worker"
    )
    organization_id: uuid.UUID | None = Field(
        default=None, description="The employer on the register; an organization user: itself"
    )
    street_code: StreetCode | None = Field(
        default=None, description="Where the person works; default: the employer's street"
    )
    employment: Employment = Employment.full_time
    certificate_level: CertificateLevel | None = None
    certificate_number: CertificateNumber | None = None
    certificate_year: CertificateYear | None = None


class StaffUpdate(BaseModel):
    """The fields to change; a certificate is given or cleared as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName | None = None
    id_number: IdNumberIn | None = None
    organization_id: uuid.UUID | None = None
    street_code: StreetCode | None = None
    employment: Employment | None = None
    certificate_level: CertificateLevel | None = None
    certificate_number: CertificateNumber | None = None
    certificate_year: CertificateYear | None = None


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    id_number: str | None = Field(description="Masked: region and last two characters")
    organization_id: uuid.UUID | None
    street_code: str
    employment: Employment
    certified: bool = Field(description="Holds a social-work certificate (持证社工)")
    certificate_level: CertificateLevel | None
    certificate_number: str | None
    certificate_year: int | None
    created_at: datetime
    updated_at: datetime


class PersonLookup(BaseModel):
    """An ID number to look up, in a body: a query string would leave it in access logs."""

    model_config = ConfigDict(extra="forbid")

    id_number: IdNumberIn


class VolunteerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName
    id_number: IdNumberIn | None = None
    organization_id: uuid.UUID | None = Field(
        default=None, description="The team registered with; an organization user: itself"
    )
    street_code: StreetCode | None = Field(
        default=None, description="Where the volunteer serves; default: the team's street"
    )
    registered_on: CalendarDate | None = Field(
        default=None, description="Default: today (Beijing time)"
    )


class VolunteerUpdate(BaseModel):
    """The fields to change; `id_number: null` removes the number."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName | None = None
    id_number: IdNumberIn | None = None
    organization_id: uuid.UUID | None = None
    street_code: StreetCode | None = None
    registered_on: CalendarDate | None = None


class VolunteerOut(BaseModel):
    id: uuid.UUID
    name: str
    id_number: str | None = Field(description="Masked: region and last two characters")
    organization_id: uuid.UUID | None
    street_code: str
    registered_on: date
    total_minutes: int = Field(ge=0, description="All service time recorded")
    total_hours: Decimal = Field(description="`total_minutes` in hours, two decimals")


class ServiceRecordCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    served_on: CalendarDate = Field(description="The day served (Beijing time), not ahead")
    minutes: int = Field(
        ge=1, le=MINUTES_PER_DAY, description="Time served that day", examples=[150]
    )
    activity: str = Field(min_length=1, max_length=500, examples=["社区助老探访"])
    organization_id: uuid.UUID | None = Field(
        default=None, description="The organization served with; default: the volunteer's team"
    )


class ServiceRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    volunteer_id: uuid.UUID
    organization_id: uuid.UUID | None
    served_on: date
    minutes: int
    activity: str
    recorded_by: str
    created_at: datetime


class OrganizationHours(BaseModel):
    organization_id: uuid.UUID
    organization_name: str
    street_code: str | None
    volunteers: int = Field(ge=0, description="Volunteers who served with it")
    minutes: int = Field(ge=0)
    hours: Decimal = Field(description="`minutes` in hours, two decimals")


class PartyOrganizationPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form: PartyOrganizationForm
    name: str = Field(min_length=2, max_length=200, examples=["庐阳区社会组织联合党支部"])
    established_on: CalendarDate
    members: int = Field(
        ge=0,
        le=100_000,
        description="Full party members in the organization; its own branch needs 3",
        examples=[5],
    )


class PartyOrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organization_id: uuid.UUID
    form: PartyOrganizationForm
    name: str
    established_on: date
    members: int
    updated_at: datetime


class PopulationPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    population: int = Field(ge=0, le=10_000_000, description="Resident population (常住人口)")
    year: int = Field(ge=1900, le=2100, description="The year the figure counts")


class StreetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    population: int | None
    population_year: int | None


class PeopleFigures(BaseModel):
    population: int | None = Field(description="Residents (of the streets whose figure is known)")
    certified_social_workers: int = Field(ge=0)
    social_workers_per_10k_residents: Decimal | None = Field(
        description="Certified social workers per 10,000 residents, two decimals; null "
        "without a population"
    )
    staff: int = Field(ge=0, description="Staff, certified or not")
    volunteers: int = Field(ge=0)
    volunteer_minutes: int = Field(ge=0)
    volunteer_hours: Decimal
    organizations: int = Field(
        ge=0,
        description="Active and abnormal organizations of the district's register "
        "(not the province-registered foundations)",
    )
    organizations_with_party_organization: int = Field(ge=0)
    party_coverage_percent: Decimal | None = Field(
        description="Organizations with a party organization per 100, two decimals; null "
        "without organizations"
    )


class StreetPeopleStats(PeopleFigures):
    street_code: str | None = Field(description="Null: organizations without a street")
    street_name: str | None


class PeopleStats(BaseModel):
    streets: list[StreetPeopleStats]
    total: PeopleFigures = Field(
        description="Over the streets shown; the per-10,000 figure over those with a population"
    )


class PersonLookupResult(BaseModel):
    staff: list[StaffOut] = Field(description="The staff record of this person, if in scope")
    volunteers: list[VolunteerOut] = Field(description="Their volunteer record, if in scope")
