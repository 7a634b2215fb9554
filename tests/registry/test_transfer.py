"""Import (CSV, XLSX: every error at once, dry run, upsert, all or nothing) and streaming export."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

import httpx
import openpyxl
import pytest

from services.registry.transfer.columns import IMPORTED
from shared.settings import get_settings
from tests.factories import VALID_ID_NUMBER, filed_org, registered_org, streamed, unique_street
from tests.registry.helpers import (
    CODES,
    IMPORT,
    ORGS,
    Auth,
    csv_bytes,
    events_of,
    find,
    mark,
    row_of,
)

EXPORT = f"{ORGS}/export"


def xlsx_bytes(rows: list[list[Any]], header: list[str]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def upload(
    registry: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    filename: str = "orgs.csv",
    **params: Any,
) -> httpx.Response:
    return await registry.post(
        IMPORT, files={"file": (filename, data)}, params=params, headers=headers
    )


class TestImport:
    async def test_csv_rows_become_organizations_with_history_and_events(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        bodies = [
            registered_org(name=f"{token}甲", tags=["为老", "党建"]),
            filed_org(name=f"{token}乙"),
        ]
        response = await upload(
            registry, auth("civil_affairs"), csv_bytes([row_of(b) for b in bodies])
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["created"], report["updated"], report["applied"]) == (2, 0, True)
        found = {org["name"]: org for org in await find(registry, auth, name=token)}
        assert found[f"{token}甲"]["tags"] == ["为老", "党建"]
        assert found[f"{token}甲"]["legal_rep_id_number"] == VALID_ID_NUMBER
        assert found[f"{token}乙"]["filing_number"] == bodies[1]["filing_number"]
        org_id = found[f"{token}甲"]["id"]
        events = await events_of(org_id)
        assert [(e.event_type, e.subject_seq, e.payload["source"]) for e in events] == [
            ("organization.created", 1, "import")
        ]
        history = (
            await registry.get(f"{ORGS}/{org_id}/history", headers=auth("civil_affairs"))
        ).json()
        assert [(e["action"], e["source"]) for e in history["items"]] == [("created", "import")]

    async def test_xlsx_with_chinese_headers_and_labels(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        body = registered_org(name=f"{token}协会")
        header = [column.label for column in IMPORTED]
        row = row_of(body)
        row[CODES.index("kind")] = "社会服务机构"
        row[CODES.index("category")] = "民生服务类"
        row[CODES.index("registration")] = "登记"
        row[CODES.index("registered_funds_fen")] = 3_000_000  # a number cell
        data = xlsx_bytes([row], header)
        response = await upload(registry, auth("civil_affairs"), data, "orgs.xlsx")
        assert response.status_code == 200, response.text
        [org] = await find(registry, auth, name=token)
        assert (org["kind"], org["category"], org["registered_funds_fen"]) == (
            "service_institution",
            "livelihood",
            3_000_000,
        )

    async def test_every_error_is_reported_with_its_row_and_column_and_nothing_is_written(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        good = registered_org(name=f"{token}好")
        bad_uscc = registered_org(name=f"{token}坏1")
        bad_uscc["uscc"] = bad_uscc["uscc"][:-1] + ("0" if bad_uscc["uscc"][-1] != "0" else "1")
        no_name = filed_org(name="", kind="bank")
        wrong_dates = filed_org(
            name=f"{token}坏3",
            established_on="2020-13-45",
            legal_rep_id_number="110105194912310021",
        )
        duplicate = registered_org(name=f"{token}坏4", uscc=good["uscc"])
        rows = [row_of(b) for b in (good, bad_uscc, no_name, wrong_dates, duplicate)]
        response = await upload(registry, auth("civil_affairs"), csv_bytes(rows))
        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "import_invalid"
        assert {(e["field"], e["code"]) for e in problem["errors"]} == {
            ("rows.3.uscc", "uscc_checksum"),
            ("rows.4.name", "missing"),
            ("rows.4.kind", "invalid_choice"),
            ("rows.5.established_on", "invalid_date"),
            ("rows.5.legal_rep_id_number", "id_number_checksum"),
            ("rows.6.uscc", "duplicate_in_file"),
        }
        assert await find(registry, auth, name=token) == []

    async def test_malformed_xlsx_rows_are_reported_row_by_row_and_nothing_is_written(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        header = [column.label for column in IMPORTED]
        good = row_of(registered_org(name=f"{token}好"))
        words_for_money = row_of(registered_org(name=f"{token}坏1"))
        words_for_money[CODES.index("registered_funds_fen")] = "三百万"
        unknown_label = row_of(registered_org(name=f"{token}坏2"))
        unknown_label[CODES.index("kind")] = "银行"
        number_for_date = row_of(filed_org(name=f"{token}坏3"))
        number_for_date[CODES.index("established_on")] = 45.5
        data = xlsx_bytes([good, words_for_money, unknown_label, number_for_date], header)
        response = await upload(registry, auth("civil_affairs"), data, "orgs.xlsx")
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "import_invalid"
        assert {(e["field"], e["code"]) for e in problem["errors"]} == {
            ("rows.3.registered_funds_fen", "fen_not_integer"),
            ("rows.4.kind", "invalid_choice"),
            ("rows.5.established_on", "invalid_date"),
        }
        assert await find(registry, auth, name=token) == []

    @pytest.mark.parametrize("send", ["declared", "streamed"])
    async def test_an_oversized_upload_is_413_and_writes_nothing(
        self, registry: httpx.AsyncClient, auth: Auth, send: str
    ) -> None:
        token = mark()
        rows = csv_bytes([row_of(registered_org(name=f"{token}大"))])
        boundary = secrets.token_hex(8)
        body = b"".join(
            [
                f"--{boundary}\r\n".encode(),
                b'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n',
                b"Content-Type: text/csv\r\n\r\n",
                rows,
                b" " * get_settings().max_body_bytes,  # padding past the limit
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        response = await registry.post(
            IMPORT,
            content=body if send == "declared" else streamed(body),
            headers={
                **auth("civil_affairs"),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "body_too_large"
        assert await find(registry, auth, name=token) == []

    async def test_dry_run_checks_everything_and_writes_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        rows = [row_of(registered_org(name=f"{token}{n}")) for n in range(3)]
        response = await upload(registry, auth("civil_affairs"), csv_bytes(rows), dry_run=True)
        assert response.status_code == 200
        assert (response.json()["created"], response.json()["applied"]) == (3, False)
        assert await find(registry, auth, name=token) == []

    async def test_upsert_by_uscc_and_filing_number(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        bureau = auth("civil_affairs", sub="clerk-import")
        registered = registered_org(name=f"{token}登记")
        filed = filed_org(name=f"{token}备案")
        await upload(registry, bureau, csv_bytes([row_of(registered), row_of(filed)]))
        changed = {**registered, "address": "宿州路9号", "registered_funds_fen": 5_000_000}
        second = await upload(registry, bureau, csv_bytes([row_of(changed), row_of(filed)]))
        assert second.status_code == 200, second.text
        assert (second.json()["created"], second.json()["updated"], second.json()["unchanged"]) == (
            0,
            1,
            1,
        )
        org = next(o for o in await find(registry, auth, name=token) if o["uscc"])
        assert (org["address"], org["registered_funds_fen"], org["version"]) == (
            "宿州路9号",
            5_000_000,
            2,
        )
        last = (await events_of(org["id"]))[-1]
        assert (last.event_type, last.subject_seq) == ("organization.updated", 2)
        assert last.payload["changed_fields"] == ["address", "registered_funds_fen"]
        history = (await registry.get(f"{ORGS}/{org['id']}/history", headers=bureau)).json()
        assert {
            (e["field"], e["before"], e["after"], e["actor_sub"]) for e in history["items"][1:]
        } == {
            ("address", None, "宿州路9号", "clerk-import"),
            ("registered_funds_fen", 3_000_000, 5_000_000, "clerk-import"),
        }

    async def test_partial_import_applies_the_valid_rows_and_reports_the_rest(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        rows = [row_of(registered_org(name=f"{token}好")), row_of(filed_org(district_code="34"))]
        response = await upload(
            registry, auth("civil_affairs"), csv_bytes(rows), all_or_nothing=False
        )
        assert response.status_code == 200
        report = response.json()
        assert (report["created"], report["skipped_rows"]) == (1, 1)
        assert {(e["row"], e["column"]) for e in report["errors"]} >= {(3, "district_code")}
        assert [o["name"] for o in await find(registry, auth, name=token)] == [f"{token}好"]

    async def test_a_file_of_several_batches_is_checked_across_them_and_written_all_or_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        # Past two batches of the importer (5,000 rows each), which are written as they go.
        token = mark()
        bodies = [registered_org(name=f"{token}{n}") for n in range(12_000)]
        bodies[5_500]["name"] = bodies[0]["name"]  # row 5502, in the second batch
        bodies[11_000]["uscc"] = bodies[1]["uscc"]  # row 11002, in the third
        data = csv_bytes([row_of(body) for body in bodies])
        # The rows' own errors are listed before those found against the register, as
        # when the whole file was checked before the register was read.
        expected = [
            ("rows.11002.uscc", "duplicate_in_file", "Same as row 3"),
            ("rows.5502.name", "duplicate_in_file", "Same name as row 2"),
        ]

        bureau = auth("civil_affairs") | {"Accept-Language": "en"}  # the messages are read
        refused = await upload(registry, bureau, data)
        assert refused.status_code == 422, refused.text[:2000]
        assert [(e["field"], e["code"], e["message"]) for e in refused.json()["errors"]] == expected
        assert await find(registry, auth, name=token) == []

        partial = await upload(registry, bureau, data, all_or_nothing=False)
        assert partial.status_code == 200, partial.text[:2000]
        report = partial.json()
        assert (report["total_rows"], report["created"], report["skipped_rows"]) == (
            12_000,
            11_998,
            2,
        )
        assert [
            (f"rows.{e['row']}.{e['column']}", e["code"], e["message"]) for e in report["errors"]
        ] == expected
        last = await find(registry, auth, name=bodies[-1]["name"])
        assert [o["uscc"] for o in last] == [bodies[-1]["uscc"]]

    async def test_header_problems_are_reported_before_any_row(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        header = [c for c in CODES if c not in ("name", "uscc", "filing_number")] + ["颜色"]
        response = await upload(registry, auth("civil_affairs"), csv_bytes([], header=header))
        assert response.status_code == 422
        assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
            ("header.name", "missing_column"),
            ("header.uscc", "missing_column"),
            ("header.颜色", "unknown_column"),
        }

    async def test_a_street_office_imports_its_own_streets_filed_organizations(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        street = unique_street()
        token = mark()
        office = auth("street_office", street_code=street)
        rows = [
            row_of(filed_org(street, name=f"{token}本街")),
            row_of(filed_org(unique_street(), name=f"{token}外街")),
            row_of(registered_org(name=f"{token}登记", street_code=street)),
        ]
        response = await upload(registry, office, csv_bytes(rows))
        assert response.status_code == 422
        assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
            ("rows.3.street_code", "scope_forbidden"),
            ("rows.4.street_code", "scope_forbidden"),
        }
        auditor = await upload(registry, auth("auditor"), csv_bytes(rows[:1]))
        assert auditor.status_code == 403

    async def test_gb18030_csv_and_unreadable_files(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        data = csv_bytes([row_of(filed_org(name=f"{token}社区"))], encoding="gb18030")
        assert (await upload(registry, auth("civil_affairs"), data)).status_code == 200
        assert len(await find(registry, auth, name=token)) == 1
        legacy = await upload(registry, auth("civil_affairs"), b"\xd0\xcf\x11\xe0junk", "a.xls")
        assert legacy.status_code == 422 and legacy.json()["code"] == "xls"

    async def test_the_template_imports_cleanly(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        for fmt, filename in (("xlsx", "t.xlsx"), ("csv", "t.csv")):
            template = await registry.get(
                f"{ORGS}/import-template", params={"format": fmt}, headers=auth("civil_affairs")
            )
            assert template.status_code == 200
            assert "attachment" in template.headers["content-disposition"]
            if fmt == "xlsx":
                workbook = openpyxl.load_workbook(io.BytesIO(template.content))
                assert workbook.sheetnames == ["organizations", "说明"]
                first = next(workbook["organizations"].iter_rows(values_only=True))
                assert list(first) == CODES
            checked = await upload(
                registry, auth("civil_affairs"), template.content, filename, dry_run=True
            )
            assert checked.status_code == 200, checked.text
            assert checked.json()["total_rows"] == 1


class TestExport:
    async def test_csv_export_of_a_search_round_trips_unchanged(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        bureau = auth("civil_affairs")
        bodies = [registered_org(name=f"{token}{n}", tags=["为老"]) for n in range(3)]
        await upload(registry, bureau, csv_bytes([row_of(b) for b in bodies]))
        export = await registry.get(EXPORT, params={"name": token, "sort": "name"}, headers=bureau)
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert [line["name"] for line in lines] == [b["name"] for b in bodies]
        assert lines[0]["legal_rep_id_number"] == VALID_ID_NUMBER
        again = await upload(registry, bureau, export.content)
        assert again.status_code == 200, again.text
        assert (again.json()["unchanged"], again.json()["updated"]) == (3, 0)

    async def test_xlsx_export_masks_id_numbers_for_auditors(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        await upload(
            registry,
            auth("civil_affairs"),
            csv_bytes([row_of(registered_org(name=f"{token}审计"))]),
        )
        export = await registry.get(
            EXPORT, params={"name": token, "format": "xlsx"}, headers=auth("auditor")
        )
        assert export.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
        assert sheet is not None
        header, *rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == 1
        record = dict(zip(header, rows[0], strict=True))
        assert record["legal_rep_id_number"] == "110105**********2X"
        # Importing the masked export back keeps the stored number.
        back = await upload(registry, auth("civil_affairs"), export.content, "back.xlsx")
        assert back.status_code == 200 and back.json()["unchanged"] == 1
        [org] = await find(registry, auth, name=token)
        assert org["legal_rep_id_number"] == VALID_ID_NUMBER

    async def test_organizations_cannot_export(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        response = await registry.get(EXPORT, headers=auth("organization", org_id="x"))
        assert response.status_code == 403
