"""Stations and 123X projects for the station tests, over the API."""

from __future__ import annotations

import uuid
from typing import Any

from tests.factories import application_body, unique_street
from tests.projects.driver import API, Driver

# Another Jiaxing county (桐乡市) than the Haining demo's, whose town codes tests then
# never take (tests.factories.unique_street counts from 100 up).
DISTRICT = "330483"
STATIONS = f"{API}/stations"


def station_body(street_code: str | None = None, **overrides: Any) -> dict[str, Any]:
    street = street_code or unique_street(DISTRICT)
    body: dict[str, Any] = {
        "district_code": street[:6],
        "street_code": street,
        "town_name": "许村镇",
        "name": "许村镇社会工作站",
        "host_org_id": str(uuid.uuid4()),
        "merged_with_party_centre": True,
        "staff_count": 6,
        "certified_social_workers": 3,
        "communities_total": 10,
        "communities_served": 5,
        "established_year": 2021,
    }
    body.update(overrides)
    return body


async def new_station(driver: Driver, **overrides: Any) -> dict[str, Any]:
    station: dict[str, Any] = await driver.expect(
        "POST", STATIONS, 201, driver.bureau, json=station_body(**overrides)
    )
    return station


class Catalogue:
    """Calls of one fund, one per catalogue item, and projects applied to them for a street."""

    def __init__(self, driver: Driver, street_code: str | None) -> None:
        self.driver = driver
        self.street_code = street_code
        self.fund: dict[str, Any] = {}
        self.calls: dict[str, dict[str, Any]] = {}

    async def project(self, item: str, *, street_code: str | None = "station") -> dict[str, Any]:
        """A project applied under a call for `item`, serving the catalogue's street (or
        `street_code`), by an organization of its own."""
        if not self.fund:
            self.fund = await self.driver.new_fund()
        if item not in self.calls:
            self.calls[item] = await self.driver.new_call(self.fund, catalogue_item=item)
        street = self.street_code if street_code == "station" else street_code
        project: dict[str, Any] = await self.driver.expect(
            "POST",
            f"{API}/calls/{self.calls[item]['id']}/applications",
            201,
            self.driver.org(str(uuid.uuid4())),
            json=application_body(street_code=street),
        )
        return project


async def attach(driver: Driver, station: dict[str, Any], project: dict[str, Any]) -> Any:
    return await driver.client.post(
        f"{STATIONS}/{station['id']}/projects",
        json={"project_id": project["id"]},
        headers=driver.bureau,
    )
