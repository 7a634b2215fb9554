"""The columns of import and export files: code, Chinese label, how a cell is read and written.

A header cell may name a column by its code (`uscc`) or its label (`统一社会信用代码`).
Import files carry the `IMPORTED` columns; exports add the read-only `EXPORTED_ONLY`
ones, which an import ignores, so that an export can be edited and imported again.

The grade columns (`GRADE`: 评估等级 and its validity) are exported but an import never
sets them: a grade comes from a grade evaluation (`grades/`). A file may carry them only
as an export has them, each cell repeating what the register holds, so that an edited
export imports again; a cell that would give, change or clear a grade is an error of its
row and column (`grade_set_by_evaluation`), never ignored in silence: a clerk migrating
an old register would believe its grades were taken in. The template has no such column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from services.registry.enums import (
    Category,
    EvaluationGrade,
    OrganizationKind,
    Registration,
    parse_code,
)


class CellError(ValueError):
    """A cell that cannot be read; `code` is the error's stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Reader = Callable[[Any], Any]

# First characters that make a spreadsheet read a cell as a formula (OWASP, CSV
# injection): `=`, `+`, `-`, `@`, and TAB and CR, which it may skip to read one after.
FORMULA_TRIGGERS = frozenset("=+-@\t\r")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # Exports protect text from spreadsheet formula injection with a leading quote.
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        text = text[1:]
    return text or None


def _code(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else text.replace(" ", "").upper()


def _identity_number(value: Any) -> str | None:
    if isinstance(value, int | float):
        # An 18-digit number does not survive a spreadsheet's floating point.
        raise CellError(
            "id_number_as_number", "Format this column as text: the number lost its last digits"
        )
    return _code(value)


def _enum(enum: type[StrEnum]) -> Reader:
    def read(value: Any) -> StrEnum | None:
        text = _text(value)
        if text is None:
            return None
        member = parse_code(enum, text)
        if member is None:
            raise CellError("invalid_choice", f"Not one of {', '.join(e.value for e in enum)}")
        return member

    return read


def _fen(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError("fen_not_integer", "Money is in whole fen")
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    if not re.fullmatch(r"-?\d+", text):
        raise CellError("fen_not_integer", "Money is in whole fen")
    return int(text)


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellError("invalid_date", "A date like 2024-05-31")


_TAG_SEPARATORS = re.compile(r"[;；、|,，]")


def _tags(value: Any) -> list[str]:
    text = _text(value)
    if text is None:
        return []
    return [tag.strip() for tag in _TAG_SEPARATORS.split(text) if tag.strip()]


def _write_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS:
        return "'" + value
    return value


@dataclass(frozen=True, slots=True)
class Column:
    code: str
    label: str
    read: Reader = _text
    note: str = ""
    required: bool = False


IMPORTED: tuple[Column, ...] = (
    Column("name", "名称", required=True),
    Column(
        "kind", "类型", _enum(OrganizationKind), "社会团体/社会服务机构/基金会/社区社会组织", True
    ),
    Column("registration", "登记方式", _enum(Registration), "登记/备案", True),
    Column("uscc", "统一社会信用代码", _code, "登记的组织必填"),
    Column("filing_number", "备案编号", _text, "备案的组织必填"),
    Column("category", "类别", _enum(Category), "民生服务类/社区服务类/…", True),
    Column("district_code", "区县代码", _code, "6位行政区划代码", True),
    Column("street_code", "街道代码", _code, "9位，备案的组织必填"),
    Column("community_code", "社区代码", _code, "12位"),
    Column("legal_rep_name", "法定代表人", required=True),
    Column("legal_rep_id_number", "法定代表人身份证号", _identity_number, "18位，文本格式"),
    Column("contact_name", "联系人"),
    Column("contact_phone", "联系电话"),
    Column("address", "住所"),
    Column("business_scope", "业务范围"),
    Column("supervising_unit", "业务主管单位"),
    Column("registered_funds_fen", "注册资金（分）", _fen, "整数，单位：分"),
    Column("established_on", "成立日期", _date, "2020-05-01"),
    Column("tags", "标签", _tags, "以；分隔"),
)
GRADE: tuple[Column, ...] = (
    Column("evaluation_grade", "评估等级", _enum(EvaluationGrade)),
    Column("grade_valid_from", "评估有效期起", _date),
    Column("grade_valid_until", "评估有效期止", _date),
)
EXPORTED_ONLY: tuple[Column, ...] = (
    Column("id", "编号"),
    Column("status", "状态"),
    Column("incubation_stage", "孵化阶段"),
    Column("version", "版本"),
    Column("created_at", "创建时间"),
    Column("updated_at", "更新时间"),
)
# The grade columns keep their place of old in an export, after the establishment date.
_BEFORE_GRADE = 1 + [c.code for c in IMPORTED].index("established_on")
EXPORTED: tuple[Column, ...] = (
    EXPORTED_ONLY[0],
    *IMPORTED[:_BEFORE_GRADE],
    *GRADE,
    *IMPORTED[_BEFORE_GRADE:],
    *EXPORTED_ONLY[1:],
)

BY_NAME: dict[str, Column] = {
    **{c.code: c for c in (*IMPORTED, *GRADE, *EXPORTED_ONLY)},
    **{c.label: c for c in (*IMPORTED, *GRADE, *EXPORTED_ONLY)},
}
IMPORTED_CODES = frozenset(c.code for c in IMPORTED)
GRADE_CODES = frozenset(c.code for c in GRADE)
REQUIRED_CODES = tuple(c.code for c in IMPORTED if c.required)


def cell_value(value: Any) -> Any:
    """How a stored value is written to a file cell (text, integer or empty)."""
    if value is None:
        return None
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, bool | int):
        return value
    return _write_text(str(value))
