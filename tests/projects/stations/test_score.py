"""The station's composite SPPE score (综合评价分值): its projects' SPPE composites weighted
by 123X slot, plus its own indicators; read by the street office of its town."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from services.projects.reference.code_lists import CatalogueSlot
from services.projects.stations.station_score import (
    ListedProject,
    StationFacts,
    StationIndicator,
    station_score,
)
from tests.factories import unique_street
from tests.projects.driver import Driver, Flow
from tests.projects.stations.helpers import DISTRICT, STATIONS, Catalogue, attach, new_station

FACTS = StationFacts(
    merged_with_party_centre=True,
    staff_count=6,
    certified_social_workers=3,
    communities_total=10,
    communities_served=5,
)


class TestFormula:
    def test_no_evaluated_project_no_composite(self) -> None:
        score = station_score(FACTS, [ListedProject(CatalogueSlot.core, None)])
        assert (score.composite, score.project_part, score.complete) == (None, None, False)
        # 1 of 6 bounded slots filled, merged, fully staffed, half the communities.
        assert score.indicators == {
            StationIndicator.catalogue_in_place: Decimal("1.67"),
            StationIndicator.merged_with_party_centre: Decimal(5),
            StationIndicator.staffing: Decimal("10.00"),
            StationIndicator.service_coverage: Decimal("2.50"),
        }
        assert score.station_part == Decimal("19.17")

    def test_special_projects_never_outweigh_the_core_one(self) -> None:
        listed = [ListedProject(CatalogueSlot.core, Decimal("60"))] + [
            ListedProject(CatalogueSlot.special, Decimal("100")) for _ in range(20)
        ]
        score = station_score(FACTS, listed)
        # (0.3 × 60 + 0.1 × 100) / 0.4 = 70 → 70 × 70 / 100 = 49
        assert score.project_part == Decimal("49.00")
        assert score.complete is True

    def test_a_full_list_of_perfect_projects_at_a_perfect_station_scores_100(self) -> None:
        perfect = StationFacts(True, 5, 3, 8, 8)
        listed = [
            ListedProject(role, Decimal(100))
            for role, count in (
                (CatalogueSlot.core, 1),
                (CatalogueSlot.brand, 2),
                (CatalogueSlot.basic, 3),
            )
            for _ in range(count)
        ]
        assert station_score(perfect, listed).composite == Decimal("100.00")
        bare = station_score(StationFacts(False, 0, 0, 0, 0), listed[:1])
        assert (bare.station_part, bare.composite) == (Decimal("1.67"), Decimal("71.67"))


async def _evaluated(driver: Driver, item: str, street: str, fraction: float) -> Flow:
    driver.call_defaults = {"catalogue_item": item}
    driver.application_defaults = {"street_code": street}
    return await driver.evaluated(fraction=fraction)


async def _composite(driver: Driver, flow: Flow) -> Decimal:
    evaluation: dict[str, Any] = await driver.expect(
        "GET", f"{flow.path}/evaluation", 200, driver.bureau
    )
    assert evaluation["status"] == "concluded"
    return Decimal(evaluation["composite"])


async def test_the_street_office_reads_its_station_score(driver: Driver) -> None:
    station = await new_station(driver)  # merged, 6 staff (3 certified), 5 of 10 communities
    street = station["street_code"]
    core = await _evaluated(driver, "core_party_talent", street, 0.9)
    basic = await _evaluated(driver, "basic_elderly_living_alone", street, 0.7)
    pending = await Catalogue(driver, street).project("brand_community")
    for project in (core.project, basic.project, pending):
        assert (await attach(driver, station, project)).status_code == 201

    office = driver.auth("street_office", street_code=street)
    path = f"{STATIONS}/{station['id']}/score"
    score = await driver.expect("GET", path, 200, office, params={"year": 2026})

    core_points, basic_points = await _composite(driver, core), await _composite(driver, basic)
    # Core and basic weigh 0.30 each; the brand slot has no evaluation yet and is left out.
    project_part = (Decimal(70) * (core_points + basic_points) / 2 / 100).quantize(Decimal("0.01"))
    # 123X: 3 of 6 → 5; 二合一 5; staffing 10; coverage 5 × 5/10 = 2.5.
    assert score["station_part"] == "22.50"
    assert score["project_part"] == str(project_part)
    assert score["composite"] == str(project_part + Decimal("22.50"))
    assert score["complete"] is False
    slots = {slot["role"]: slot for slot in score["slots"]}
    assert (slots["core"]["mean"], slots["core"]["listed"]) == (str(core_points), 1)
    assert (slots["brand"]["listed"], slots["brand"]["evaluated"], slots["brand"]["mean"]) == (
        1,
        0,
        None,
    )
    assert {p["project_id"]: p["composite"] for p in score["projects"]} == {
        core.id: str(core_points),
        basic.id: str(basic_points),
        pending["id"]: None,
    }
    assert {i["indicator"]: i["points"] for i in score["indicators"]} == {
        "catalogue_in_place": "5.00",
        "merged_with_party_centre": "5.00",
        "staffing": "10.00",
        "service_coverage": "2.50",
    }
    # Another year has nothing listed yet: no composite, only the station's own part.
    other_year = await driver.expect("GET", path, 200, office, params={"year": 2027})
    assert (other_year["composite"], other_year["projects"]) == (None, [])
    assert other_year["station_part"] == "17.50"


async def test_the_score_is_read_in_scope_and_bad_years_are_refused(driver: Driver) -> None:
    station = await new_station(driver)
    path = f"{STATIONS}/{station['id']}/score"
    for reader in (
        driver.auth("street_office", street_code=station["street_code"]),
        driver.auth("organization", org_id=station["host_org_id"]),
        driver.auth("auditor"),
    ):
        read = await driver.expect("GET", path, 200, reader, params={"year": 2026})
        assert read["station_id"] == station["id"]
    for stranger in (
        driver.auth("street_office", street_code=unique_street(DISTRICT)),
        driver.auth("organization", org_id=str(uuid.uuid4())),
    ):
        problem = await driver.expect("GET", path, 404, stranger, params={"year": 2026})
        assert problem["code"] == "station_not_found"
    refused = await driver.client.get(path, headers=driver.auth("evaluator"))
    assert refused.status_code == 403
    # The last: a lone surrogate's UTF-8 bytes, which no client library would send.
    for year in ("9999", "-1", "2026.5", "%ED%A0%80", "1e3"):
        problem = await driver.expect("GET", f"{path}?year={year}", 422, driver.bureau)
        assert problem["code"] == "validation_error"
    # Without a year: this year's list (Asia/Shanghai).
    this_year = await driver.expect("GET", path, 200, driver.bureau)
    assert this_year["year"] >= 2026
