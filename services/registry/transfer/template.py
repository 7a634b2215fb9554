"""The import template: the columns, an example row, and (in XLSX) a sheet explaining them."""

from __future__ import annotations

import csv
import io

from services.registry.enums import LABELS, Category, OrganizationKind, Registration
from services.registry.transfer.columns import GRADE, IMPORTED

EXAMPLE = {
    "name": "庐阳区示例助老服务中心",
    "kind": OrganizationKind.service_institution.value,
    "registration": Registration.registered.value,
    "uscc": "52340103MJ00000262",
    "category": Category.livelihood.value,
    "district_code": "340103",
    "street_code": "340103001",
    "community_code": "340103001001",
    "legal_rep_name": "张三",
    "contact_phone": "0551-65000000",
    "address": "合肥市庐阳区亳州路街道1号",
    "registered_funds_fen": "3000000",
    "established_on": "2020-05-01",
    "tags": "为老;志愿",
}
# The grade columns are not in the template; the notes say why, for a file that has them.
_GRADE_NOTE = "不导入：等级只能通过等级评估评定；导出文件中的等级可原样保留，不能修改"
# Codes and ID numbers must stay text, or a spreadsheet turns them into rounded numbers.
_TEXT_COLUMNS = {"uscc", "filing_number", "district_code", "street_code", "community_code"}
_TEXT_COLUMNS |= {"legal_rep_id_number", "contact_phone"}


def csv_template() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.code for column in IMPORTED])
    writer.writerow([EXAMPLE.get(column.code, "") for column in IMPORTED])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def xlsx_template() -> bytes:
    # Imported here: openpyxl's memory is paid by the process that writes a workbook,
    # not by every idle registry (bench/idle.py).
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "organizations"
    sheet.append([column.code for column in IMPORTED])
    sheet.append([EXAMPLE.get(column.code) for column in IMPORTED])
    for index, column in enumerate(IMPORTED, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.label) * 2 + 4)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        if column.code in _TEXT_COLUMNS:
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = "@"
    notes = workbook.create_sheet("说明")
    notes.append(["列", "名称", "必填", "说明"])
    for column in IMPORTED:
        notes.append([column.code, column.label, "是" if column.required else "", column.note])
    for column in GRADE:
        notes.append([column.code, column.label, "", _GRADE_NOTE])
    notes.append([])
    notes.append(["取值", "代码", "中文"])
    for enum in (OrganizationKind, Registration, Category):
        for code, label in LABELS[enum].items():
            notes.append([enum.__name__, code, label])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
