"""Feeds read in commit-safe order: rows paged by `(txid, position)`, never by position alone.

An identity `position` is taken when a row is inserted, not when its transaction
commits, so a reader paging by position could pass one that a slower transaction fills
in later. A feed table therefore also records the inserting transaction's id (`xid8`,
`pg_current_xact_id()` as its server default), shows only rows of transactions older
than every running one (`settled`), and pages by `(txid, position)`: any transaction
still to commit has a larger txid, so nothing can appear behind a reader's cursor. A
long transaction anywhere in the cluster delays such a feed, never loses a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, cast, func, literal, tuple_
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType

from shared.errors import FieldError, Unprocessable

_CURSOR = re.compile(r"^(\d{1,20})-(\d{1,19})$")


class XID8(UserDefinedType[str]):
    """PostgreSQL's 64-bit transaction id (`xid8`, PG 13+); read and written as text.

    64 bits with the epoch, so it never wraps around like `xid`.
    """

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


# Reflection (alembic's comparison of models and database) must recognise the type.
ischema_names.setdefault("xid8", XID8)


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """Opaque to consumers (`<txid>-<position>`): the last row they have seen."""

    txid: int
    position: int

    def __str__(self) -> str:
        return f"{self.txid}-{self.position}"

    @classmethod
    def parse(cls, text: str) -> FeedCursor | None:
        """The cursor, or None for text no feed could have returned."""
        match = _CURSOR.match(text)
        if match is None:
            return None
        txid, position = int(match.group(1)), int(match.group(2))
        if txid >= 2**64 or position >= 2**63:
            return None
        return cls(txid, position)


def cursor_from_query(text: str) -> FeedCursor:
    """The cursor a client sent back in `?after=`; 422 `cursor_invalid` if no feed could
    have returned it."""
    cursor = FeedCursor.parse(text)
    if cursor is None:
        message = "Not a cursor returned by this feed"
        raise Unprocessable(
            message,
            code="cursor_invalid",
            errors=[FieldError(field="query.after", message=message, code="cursor_invalid")],
        )
    return cursor


def settled(txid: Any) -> ColumnElement[bool]:
    """Rows whose transaction is older than every running one (committed or gone)."""
    condition: ColumnElement[bool] = txid < func.pg_snapshot_xmin(func.pg_current_snapshot())
    return condition


def after(txid: Any, position: Any, cursor: FeedCursor) -> ColumnElement[bool]:
    """Rows after the cursor in feed order."""
    condition: ColumnElement[bool] = tuple_(txid, position) > tuple_(
        cast(literal(str(cursor.txid)), XID8()), literal(cursor.position)
    )
    return condition
