"""Import and export under hostile input.

- A CSV export neutralises every cell a spreadsheet would read as a formula: a leading
  `=`, `+`, `-`, `@`, and also TAB and CR (OWASP, CSV injection), with a quote that an
  import takes off again.
"""

from __future__ import annotations

import csv
import io

import httpx

from tests.factories import registered_org
from tests.registry.helpers import ORGS, Auth, created

IMPORT = f"{ORGS}/import"
EXPORT = f"{ORGS}/export"


async def test_csv_export_quotes_cells_starting_with_tab_or_carriage_return(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    hostile = {
        "address": "\t=1+2",
        "contact_name": "\r=HYPERLINK(1)",
        "business_scope": "=SUM(A1:A9)",
        "supervising_unit": "@SUM(1)",
    }
    organization = await created(registry, bureau, registered_org(**hostile))

    export = await registry.get(
        EXPORT, params={"uscc_prefix": organization["uscc"]}, headers=bureau
    )

    assert export.status_code == 200, export.text
    [line] = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"), newline="")))
    assert {field: line[field] for field in hostile} == {
        field: "'" + value for field, value in hostile.items()
    }
    # The export imports back unchanged: the quote is taken off again.
    again = await registry.post(
        IMPORT, files={"file": ("back.csv", export.content)}, headers=bureau
    )
    assert again.status_code == 200, again.text
    assert (again.json()["unchanged"], again.json()["updated"]) == (1, 0)
    stored = (await registry.get(f"{ORGS}/{organization['id']}", headers=bureau)).json()
    assert {field: stored[field] for field in hostile} == hostile
