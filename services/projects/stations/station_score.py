"""The station's composite SPPE score (镇(街道)社会工作站综合评价分值), as pure functions.

The seed (海宁《镇(街道)社会工作站建设运营"SPPE"评价办法》) scores the *station*:
"以百分制量化社工站绩效，并在100分的基础上，增设正向、反向4条评价标准，最终形成镇(街道)
社会工作站综合评价分值". Its 23 indicators and 4 adjustments are applied to each project
of the station's "123X" list by the project evaluation (`evaluation/scoring.py`, whose
composite is on the 100-point scale plus adjustments). The station score combines them
with what only the station has, on the same 100-point scale:

    composite = project part (≤ 70) + station part (≤ 30), rounded half-up to 0.01

Project part = 70 × Σ_slot w_slot × mean(composites of the slot's evaluated projects)
               / 100 / Σ_slot w_slot (over the slots that have an evaluated project)

  with the 123X weights w: core 1 (核心引领) 0.30, brand 2 (品牌) 0.30, basic 3 (基础) 0.30,
  special X (特色自选) 0.10. Each slot is averaged first, so that any number of optional X
  projects weighs as one tenth, never more than the core project. A slot with no
  concluded evaluation yet is left out and the other weights renormalised; the score is
  then marked incomplete (`complete` false). With no evaluated project at all there is
  no composite (null). Project composites keep their adjustments (they may exceed 100).

Station part, 30 points, from the station's own indicators:

  - 123X list in place (清单完整)   10 × (min(core,1) + min(brand,2) + min(basic,3)) / 6,
    counting the projects on the year's list (evaluated or not);
  - 二合一 (merged with the party-mass service centre)   5 if merged, else 0;
  - staffing (专业团队)   5 × min(staff / 5, 1) + 5 × min(certified social workers / 3, 1);
  - service coverage (服务社区覆盖)   5 × communities served / communities of the town.

The weights and targets are this module's policy constants (the seed publishes the
method, not its numbers); changing them changes every station's score, so they are
named here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from services.projects.reference.code_lists import CatalogueSlot

CENT = Decimal("0.01")
PROJECT_PART_MAX = Decimal(70)

# The 123X slot weights of the project part.
SLOT_WEIGHTS: dict[CatalogueSlot, Decimal] = {
    CatalogueSlot.core: Decimal("0.30"),
    CatalogueSlot.brand: Decimal("0.30"),
    CatalogueSlot.basic: Decimal("0.30"),
    CatalogueSlot.special: Decimal("0.10"),
}
# How many projects each slot holds at most ("1" core, "2" brand, "3" basic, "X": no limit).
SLOT_QUOTAS: dict[CatalogueSlot, int | None] = {
    CatalogueSlot.core: 1,
    CatalogueSlot.brand: 2,
    CatalogueSlot.basic: 3,
    CatalogueSlot.special: None,
}
STAFF_TARGET = 5
CERTIFIED_TARGET = 3


class StationIndicator(StrEnum):
    """The station-level indicators of the station score."""

    catalogue_in_place = "catalogue_in_place"  # 123X 清单完整
    merged_with_party_centre = "merged_with_party_centre"  # 二合一
    staffing = "staffing"  # 专业团队
    service_coverage = "service_coverage"  # 服务社区覆盖


INDICATOR_MAX: dict[StationIndicator, Decimal] = {
    StationIndicator.catalogue_in_place: Decimal("10.00"),
    StationIndicator.merged_with_party_centre: Decimal("5.00"),
    StationIndicator.staffing: Decimal("10.00"),
    StationIndicator.service_coverage: Decimal("5.00"),
}


@dataclass(frozen=True, slots=True)
class StationFacts:
    merged_with_party_centre: bool
    staff_count: int
    certified_social_workers: int
    communities_total: int
    communities_served: int


@dataclass(frozen=True, slots=True)
class ListedProject:
    """A project on the year's list: its slot, and its SPPE composite once concluded."""

    role: CatalogueSlot
    composite: Decimal | None


@dataclass(frozen=True, slots=True)
class SlotScore:
    role: CatalogueSlot
    weight: Decimal
    listed: int
    evaluated: int
    mean: Decimal | None


@dataclass(frozen=True, slots=True)
class StationScore:
    composite: Decimal | None
    complete: bool
    project_part: Decimal | None
    station_part: Decimal
    slots: list[SlotScore]
    indicators: dict[StationIndicator, Decimal]


def _cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _share(part: int, whole: int) -> Decimal:
    """part / whole capped at 1 (0 when there is no whole)."""
    if whole <= 0:
        return Decimal(0)
    return min(Decimal(part) / Decimal(whole), Decimal(1))


def slot_scores(projects: Iterable[ListedProject]) -> list[SlotScore]:
    listed = list(projects)
    scores = []
    for role, weight in SLOT_WEIGHTS.items():
        composites = [p.composite for p in listed if p.role is role and p.composite is not None]
        mean = _cent(sum(composites, Decimal(0)) / len(composites)) if composites else None
        count = sum(1 for p in listed if p.role is role)
        scores.append(SlotScore(role, weight, count, len(composites), mean))
    return scores


def station_indicators(
    facts: StationFacts, slots: list[SlotScore]
) -> dict[StationIndicator, Decimal]:
    filled = sum(
        min(slot.listed, quota) for slot in slots if (quota := SLOT_QUOTAS[slot.role]) is not None
    )
    required = sum(quota for quota in SLOT_QUOTAS.values() if quota is not None)
    maximum = INDICATOR_MAX
    return {
        StationIndicator.catalogue_in_place: _cent(
            maximum[StationIndicator.catalogue_in_place] * _share(filled, required)
        ),
        StationIndicator.merged_with_party_centre: (
            maximum[StationIndicator.merged_with_party_centre]
            if facts.merged_with_party_centre
            else Decimal("0.00")
        ),
        StationIndicator.staffing: _cent(
            maximum[StationIndicator.staffing]
            / 2
            * (
                _share(facts.staff_count, STAFF_TARGET)
                + _share(facts.certified_social_workers, CERTIFIED_TARGET)
            )
        ),
        StationIndicator.service_coverage: _cent(
            maximum[StationIndicator.service_coverage]
            * _share(facts.communities_served, facts.communities_total)
        ),
    }


def station_score(facts: StationFacts, projects: Iterable[ListedProject]) -> StationScore:
    listed = list(projects)
    slots = slot_scores(listed)
    indicators = station_indicators(facts, slots)
    station_part = _cent(sum(indicators.values(), Decimal(0)))
    scored = [slot for slot in slots if slot.mean is not None]
    complete = bool(listed) and all(p.composite is not None for p in listed)
    if not scored:
        return StationScore(None, False, None, station_part, slots, indicators)
    weights = sum((slot.weight for slot in scored), Decimal(0))
    weighted = sum(
        (slot.weight * slot.mean for slot in scored if slot.mean is not None), Decimal(0)
    )
    project_part = _cent(PROJECT_PART_MAX * weighted / weights / 100)
    return StationScore(
        _cent(project_part + station_part), complete, project_part, station_part, slots, indicators
    )
