"""The street figures of 三社联动: social workers per 10,000 residents, party coverage.

- per 10,000 residents = certified social workers × 10,000 / resident population, two
  decimals rounded half up; unknown without a population (or with a population of 0);
- party coverage = organizations with a party organization × 100 / organizations on
  the district's register (active and abnormal, province-registered foundations
  apart, as organizations/stats counts the 866), two decimals rounded half up; unknown without
  organizations;
- volunteer hours = minutes / 60, two decimals rounded half up.

The district total adds the streets up; its per-10,000 figure counts the workers and
residents of the streets whose population is known only, so that a street without a
figure neither inflates nor dilutes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from services.registry.people.repository import StreetCounts
from services.registry.people.schemas import PeopleFigures, StreetPeopleStats

CENT = Decimal("0.01")


def ratio(numerator: int, denominator: int | None, *, per: int) -> Decimal | None:
    """`numerator × per / denominator`, two decimals; None when there is no denominator."""
    if not denominator:
        return None
    return (Decimal(numerator) * per / Decimal(denominator)).quantize(CENT, ROUND_HALF_UP)


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(CENT, ROUND_HALF_UP)


def figures(counts: StreetCounts) -> PeopleFigures:
    return PeopleFigures(
        population=counts.population,
        certified_social_workers=counts.certified,
        social_workers_per_10k_residents=ratio(counts.certified, counts.population, per=10_000),
        staff=counts.staff,
        volunteers=counts.volunteers,
        volunteer_minutes=counts.volunteer_minutes,
        volunteer_hours=hours(counts.volunteer_minutes),
        organizations=counts.organizations,
        organizations_with_party_organization=counts.with_party,
        party_coverage_percent=ratio(counts.with_party, counts.organizations, per=100),
    )


def street_row(code: str | None, counts: StreetCounts) -> StreetPeopleStats:
    return StreetPeopleStats(
        street_code=code, street_name=counts.name, **figures(counts).model_dump()
    )


def total(streets: Iterable[StreetCounts]) -> PeopleFigures:
    streets = list(streets)
    known = [s for s in streets if s.population is not None]
    summed = StreetCounts(
        population=sum(s.population or 0 for s in known) if known else None,
        certified=sum(s.certified for s in streets),
        staff=sum(s.staff for s in streets),
        volunteers=sum(s.volunteers for s in streets),
        volunteer_minutes=sum(s.volunteer_minutes for s in streets),
        organizations=sum(s.organizations for s in streets),
        with_party=sum(s.with_party for s in streets),
    )
    result = figures(summed)
    result.social_workers_per_10k_residents = ratio(
        sum(s.certified for s in known), summed.population, per=10_000
    )
    return result
