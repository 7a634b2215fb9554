"""Item 13: OCDS releases are immutable, one per change, and compiled into records.

A release, once published, never changes: an amendment, a payment or the closure each
publish a release of their own (own id, own date, the OCDS tag of the change), and the
record compiles them (OCDS merge) into `compiledRelease`. Auditors pull every release
and record in bulk, paged, from a date on. Parties that the registry knows carry their
USCC (scheme `CN-USCC`), and calendar dates are Shanghai days, not UTC midnights.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema_rs
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.projects.core.models import Project
from services.projects.ocds.releases import publish
from services.projects.ocds.schema import patched_release_schema, release_schema
from shared.db import database
from tests.factories import uscc
from tests.projects.driver import API, Driver, Flow
from tests.support.polling import poll
from tests.support.registry import StandInRegistry

RELEASES = f"{API}/ocds/releases"
RECORDS = f"{API}/ocds/records"
SHANGHAI_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+08:00$")
# Every field of the release schema that holds a date-time.
DATE_FIELDS = {
    "date",
    "startDate",
    "endDate",
    "dateSigned",
    "dueDate",
    "dateMet",
    "dateConcluded",
    "publishedDate",
}


def schema_errors(schema: dict[str, Any], release: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.Draft4Validator(schema, validate_formats=True)
    return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(release)]


def dates_in(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every (path, value) of a date-time field, anywhere in a document."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in DATE_FIELDS and isinstance(item, str):
                found.append((f"{path}.{key}", item))
            found += dates_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += dates_in(item, f"{path}[{index}]")
    return found


async def releases_of(driver: Driver, flow: Flow) -> list[dict[str, Any]]:
    package = await driver.expect("GET", f"{flow.path}/ocds", 200, driver.auth("auditor"))
    releases: list[dict[str, Any]] = package["releases"]
    return releases


async def record_of(driver: Driver, flow: Flow) -> dict[str, Any]:
    package = await driver.expect("GET", f"{flow.path}/ocds/record", 200, driver.auth("auditor"))
    assert package["version"] == "1.1"
    assert {"uri", "publishedDate", "publisher", "records"} <= set(package)
    (record,) = package["records"]
    assert record["ocid"] == f"ocds-sanshe-{flow.id}"
    return dict(record)


async def amend(driver: Driver, flow: Flow, body: dict[str, Any]) -> dict[str, Any]:
    """The bureau proposes and approves an amendment of the contract."""
    amendment = await driver.expect(
        "POST", f"{flow.path}/contract/amendments", 201, driver.bureau, json=body
    )
    contract = await driver.client.get(f"{flow.path}/contract", headers=driver.bureau)
    approved: dict[str, Any] = await driver.expect(
        "POST",
        f"{flow.path}/contract/amendments/{amendment['id']}/approve",
        200,
        {**driver.bureau, "If-Match": contract.headers["ETag"]},
        json={"note": "同意"},
    )
    return approved


def contract_in(release: dict[str, Any]) -> dict[str, Any]:
    (contract,) = release["contracts"]
    return dict(contract)


async def test_an_amendment_publishes_a_release_of_its_own_and_changes_no_earlier_one(
    driver: Driver,
) -> None:
    flow = await driver.implementing()
    before = await releases_of(driver, flow)
    signed = next(r for r in before if r["tag"] == ["contract"])
    assert contract_in(signed)["value"] == {"amount": 190000.0, "currency": "CNY"}

    await amend(driver, flow, {"rationale": "服务人数增加", "new_amount_fen": 21_000_000})

    after = await releases_of(driver, flow)
    assert after[: len(before)] == before, "a published release never changes"
    (amended,) = after[len(before) :]
    assert amended["tag"] == ["contractAmendment"]
    assert amended["id"] not in {r["id"] for r in before}
    assert amended["date"] > before[-1]["date"]
    contract = contract_in(amended)
    assert contract["value"] == {"amount": 210000.0, "currency": "CNY"}
    assert [a["rationale"] for a in contract["amendments"]] == ["服务人数增加"]

    record = await record_of(driver, flow)
    assert record["releases"] == after
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"]
    assert contract_in(compiled)["value"] == {"amount": 210000.0, "currency": "CNY"}
    assert schema_errors(release_schema(), compiled) == []


async def test_a_closed_project_has_one_release_per_change_each_valid_and_in_date_order(
    driver: Driver,
) -> None:
    flow = await driver.closing()
    await driver.outcome("project_closure", "project", flow.id)
    releases = await releases_of(driver, flow)
    tags = [r["tag"] for r in releases]
    assert tags[:5] == [["planning"], ["tender"], ["award"], ["contract"], ["implementation"]]
    assert tags[-1] == ["contractTermination"]
    # Three payments, the mid-term milestone and the evaluation each changed the contract.
    assert tags.count(["implementationUpdate"]) >= 4
    assert len({r["id"] for r in releases}) == len(releases)
    dates = [datetime.fromisoformat(r["date"]) for r in releases]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    for release in releases:
        assert schema_errors(release_schema(), release) == [], release["tag"]
        assert schema_errors(patched_release_schema(), release) == [], release["tag"]

    compiled = (await record_of(driver, flow))["compiledRelease"]
    assert schema_errors(patched_release_schema(), compiled) == []
    contract = contract_in(compiled)
    assert contract["status"] == "terminated"
    implementation = contract["implementation"]
    assert sum(t["value"]["amount"] for t in implementation["transactions"]) == 190000.0
    assert "sppeEvaluation" in implementation
    # The signing release still says what was true when it was published.
    signed = next(r for r in releases if r["tag"] == ["contract"])
    assert contract_in(signed)["status"] == "active"


async def test_a_revoked_award_and_a_cancelled_tender_are_releases_that_say_so(
    driver: Driver,
) -> None:
    flow = await driver.awarded()
    procurement = await driver.expect("GET", f"{flow.path}/procurement", 200, driver.bureau)
    first_tender = procurement["id"]
    awarded = procurement["awarded_bid_id"]
    await driver.expect(
        "POST",
        f"{flow.path}/procurement/disqualifications",
        200,
        driver.bureau,
        json={"bid_id": awarded, "reason": "投标文件虚假"},
    )
    await driver.expect(
        "POST", f"{flow.path}/procurement/cancellation", 200, driver.bureau, json={"reason": "废标"}
    )
    await driver.open_procurement(flow)
    releases = await releases_of(driver, flow)
    assert [r["tag"] for r in releases][-4:] == [
        ["award"],
        ["awardCancellation"],
        ["tenderCancellation"],
        ["tender"],
    ]
    award, revoked, cancelled, again = releases[-4:]
    assert [(a["id"], a["status"]) for a in award["awards"]] == [(awarded, "active")]
    assert [(a["id"], a["status"]) for a in revoked["awards"]] == [(awarded, "cancelled")]
    assert (cancelled["tender"]["id"], cancelled["tender"]["status"]) == (first_tender, "cancelled")
    assert again["tender"]["id"] != first_tender and again["tender"]["status"] == "active"
    for release in releases:
        assert schema_errors(release_schema(), release) == [], release["tag"]

    compiled = (await record_of(driver, flow))["compiledRelease"]
    assert [(a["id"], a["status"]) for a in compiled["awards"]] == [(awarded, "cancelled")]
    assert compiled["tender"]["id"] == again["tender"]["id"]


async def test_published_releases_cannot_be_updated_or_deleted_in_the_database(
    driver: Driver,
) -> None:
    flow = await driver.applied()
    for statement in (
        "UPDATE projects.ocds_release SET body = '{}'::jsonb WHERE project_id = :id",
        "DELETE FROM projects.ocds_release WHERE project_id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with database.transaction() as session:
                await session.execute(text(statement), {"id": flow.id})
    assert len(await releases_of(driver, flow)) == 1


async def test_calendar_dates_are_shanghai_days_and_every_moment_is_in_shanghai_time(
    driver: Driver,
) -> None:
    flow = await driver.implementing(start_on="2026-07-01", end_on="2027-06-30")
    await amend(driver, flow, {"rationale": "延期", "new_end_on": "2027-09-30"})
    releases = await releases_of(driver, flow)
    signed = contract_in(next(r for r in releases if r["tag"] == ["contract"]))
    assert signed["period"] == {
        "startDate": "2026-07-01T00:00:00+08:00",
        "endDate": "2027-06-30T23:59:59+08:00",
    }
    assert signed["dateSigned"] == "2026-01-05T00:00:00+08:00"
    amended = contract_in(releases[-1])
    assert amended["period"]["endDate"] == "2027-09-30T23:59:59+08:00"
    deliverables = [m for m in amended["implementation"]["milestones"] if m["type"] == "delivery"]
    assert deliverables and all(m["dueDate"].endswith("T23:59:59+08:00") for m in deliverables)
    found = dates_in(releases)
    assert found and [(p, d) for p, d in found if not SHANGHAI_MOMENT.match(d)] == []


async def test_parties_known_to_the_registry_carry_their_uscc(
    driver: Driver, stand_in_registry: StandInRegistry, org_id: str
) -> None:
    rival, unnumbered = str(uuid.uuid4()), str(uuid.uuid4())
    codes = {org_id: uscc(), rival: uscc()}
    for org, code in codes.items():
        stand_in_registry.overrides[org] = {"uscc": code}
    flow = await driver.awarded(
        org_id,
        bidders=(
            (org_id, 19_000_000, "90"),
            (rival, 17_000_000, "70"),
            (unnumbered, 18_000_000, "60"),  # the registry gives it no USCC
        ),
    )

    award = next(r for r in await releases_of(driver, flow) if r["tag"] == ["award"])
    parties = {p["id"]: p for p in award["parties"]}
    async with httpx.AsyncClient(base_url=stand_in_registry.url) as registry:
        for org, code in codes.items():
            name = (await registry.get(f"{API}/organizations/{org}")).json()["name"]
            identifier = {"scheme": "CN-USCC", "id": code, "legalName": name}
            assert parties[f"org-{org}"]["identifier"] == identifier
    assert {"supplier", "tenderer"} <= set(parties[f"org-{org_id}"]["roles"])
    assert parties[f"org-{rival}"]["roles"] == ["tenderer"]
    # No identifier rather than a made-up one: an organization without a USCC, and the
    # government bodies, which have no registry entry here.
    assert "identifier" not in parties[f"org-{unnumbered}"]
    assert "identifier" not in parties["dept-education"]
    assert schema_errors(release_schema(), award) == []


async def _page_through(
    driver: Driver, path: str, headers: dict[str, str], params: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    """Follow `links.next` to the end; every page is a valid package of at most `limit`."""
    items: list[dict[str, Any]] = []
    url: str | None = path
    pages = 0
    while url is not None:
        # The first page with the parameters, the next ones by their link alone.
        extra = {"params": params} if pages == 0 else {}
        package = await driver.expect("GET", url, 200, headers, **extra)
        assert package["version"] == "1.1"
        assert package["publisher"]["name"]
        assert SHANGHAI_MOMENT.match(package["publishedDate"])
        assert package["uri"].startswith("http")
        assert len(package[key]) <= params["limit"]
        items += package[key]
        pages += 1
        assert pages < 100, "the feed does not end"
        next_url = package.get("links", {}).get("next")
        url = None if next_url is None else _path_of(next_url)
    return items


async def _feed_until(
    driver: Driver, headers: dict[str, str], params: dict[str, Any], expected: set[str]
) -> list[dict[str, Any]]:
    """The release feed paged through, once it shows every expected release.

    The feed holds a release back while any transaction older than it still runs (in
    this cluster, other test runs' too), so that it can never skip one: wait for it.
    """

    async def complete() -> list[dict[str, Any]] | None:
        listed = await _page_through(driver, RELEASES, headers, params, "releases")
        return listed if expected <= {r["id"] for r in listed} else None

    listed: list[dict[str, Any]] = await poll(complete, within=30.0, every=0.1)
    return listed


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_auditors_page_through_every_release_and_record_since_a_date(
    driver: Driver,
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    first = await driver.contracted()
    second = await driver.awarded()
    expected = await releases_of(driver, first) + await releases_of(driver, second)
    auditor = driver.auth("auditor")

    listed = await _feed_until(
        driver, auditor, {"since": since.isoformat(), "limit": 2}, {r["id"] for r in expected}
    )
    mine = [r for r in listed if r["ocid"] in {f"ocds-sanshe-{f.id}" for f in (first, second)}]
    assert sorted(mine, key=lambda r: r["id"]) == sorted(expected, key=lambda r: r["id"])
    assert len({r["id"] for r in listed}) == len(listed), "no release twice"
    assert all(datetime.fromisoformat(r["date"]) >= since for r in listed)

    later = await driver.expect(
        "GET", RELEASES, 200, auditor, params={"since": datetime.now(UTC).isoformat()}
    )
    assert later["releases"] == []

    records = await _page_through(
        driver, RECORDS, auditor, {"since": since.isoformat(), "limit": 1}, "records"
    )
    by_ocid = {r["ocid"]: r for r in records}
    assert len(by_ocid) == len(records)
    record = by_ocid[f"ocds-sanshe-{first.id}"]
    assert record["releases"] == await releases_of(driver, first)
    assert contract_in(record["compiledRelease"])["value"]["amount"] == 190000.0
    assert by_ocid[f"ocds-sanshe-{second.id}"]["compiledRelease"]["awards"]


async def test_the_bulk_feed_shows_an_organization_only_its_own_projects(
    driver: Driver,
) -> None:
    mine = await driver.applied()
    theirs = await driver.applied()
    expected = {r["id"] for r in await releases_of(driver, mine)}
    listed = await _feed_until(driver, driver.org(mine.org_id), {"limit": 200}, expected)
    assert {r["ocid"] for r in listed} == {f"ocds-sanshe-{mine.id}"}
    records = await _page_through(
        driver, RECORDS, driver.org(mine.org_id), {"limit": 100}, "records"
    )
    assert [r["ocid"] for r in records] == [f"ocds-sanshe-{mine.id}"]
    assert f"ocds-sanshe-{theirs.id}" not in {r["ocid"] for r in records}


async def _drain(
    driver: Driver, headers: dict[str, str], url: str
) -> tuple[list[dict[str, Any]], str]:
    """Every release the feed shows from `url` on, and the link to resume from later."""
    items: list[dict[str, Any]] = []
    while True:
        package = await driver.expect("GET", url, 200, headers)
        if not package["releases"]:
            return items, url
        items += package["releases"]
        url = _path_of(package["links"]["next"])


async def test_a_release_whose_transaction_commits_late_is_not_skipped_by_the_feed(
    driver: Driver,
) -> None:
    slow, auditor = await driver.applied(), driver.auth("auditor")
    async with database.transaction() as session:
        project = await session.get(Project, uuid.UUID(slow.id))
        assert project is not None
        late = await publish(session, project, "planningUpdate")
        assert late is not None
        late_id = late.release_id
        # Another change commits while the first transaction is still open.
        fast = await driver.applied()
        fast_ids = {r["id"] for r in await releases_of(driver, fast)}
        seen, resume = await _drain(driver, auditor, f"{RELEASES}?limit=200")
        assert not fast_ids & {r["id"] for r in seen}, "shown before an older transaction ended"

    async def both() -> list[str] | None:
        listed, _ = await _drain(driver, auditor, resume)
        ids = [r["id"] for r in listed]
        return ids if {late_id, *fast_ids} <= set(ids) else None

    ids = await poll(both, within=30.0, every=0.1)
    assert ids.index(late_id) < min(ids.index(i) for i in fast_ids), "in commit-safe order"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "not-a-cursor"}, "query.after"),
        ({"after": f"{2**64}-1"}, "query.after"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 100_000}, "query.limit"),
        ({"since": "2026-01-01T00:00:00"}, "query.since"),  # no time zone: which day?
        ({"since": "yesterday"}, "query.since"),
        ({"since": "9999-12-31T23:59:59+14:00"}, "query.since"),  # beyond any real date
    ],
)
async def test_bad_feed_parameters_are_a_clear_422(
    driver: Driver, params: dict[str, Any], field: str
) -> None:
    for path in (RELEASES, RECORDS):
        response = await driver.client.get(path, params=params, headers=driver.auth("auditor"))
        assert response.status_code == 422, response.text
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in problem["errors"]}, problem


async def test_the_bulk_feed_needs_a_token(driver: Driver) -> None:
    for path in (RELEASES, RECORDS):
        assert (await driver.client.get(path)).status_code == 401
