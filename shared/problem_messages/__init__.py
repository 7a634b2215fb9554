"""Problem texts in the language a request asks for: Chinese (zh-CN) or English.

`negotiate()` reads `Accept-Language` (RFC 9110 §12.5.4: weighted by `q`, `q=0` refuses
a language, `*` stands for any language not named). Any `zh` tag (`zh`, `zh-CN`,
`zh-Hans`, ...) gets Chinese, any `en` tag English; without the header, or with an
empty one, Chinese (zh-CN, the front-end's language); a header naming only other
languages gets English. Our Chinese is simplified: a `zh-TW` reader gets it too, as
closer than English.

The `code` and `type` of a problem never change with the language. In Chinese, `title`
and `detail` come from the catalogue (`zh_cn.py`) by code, and the English detail,
which may carry specifics (an id, a count, a state), is kept in `detail_en`; a field
error keeps its `field` and `code` and its English message in `message_en`. A code
without a Chinese text keeps its English text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from shared.problem_messages.zh_cn import CODE_TITLES, MESSAGES, TITLES, VALIDATION_MESSAGES

__all__ = [
    "CHINESE",
    "DEFAULT_LANGUAGE",
    "ENGLISH",
    "MESSAGES",
    "VALIDATION_MESSAGES",
    "field_message",
    "negotiate",
    "problem_texts",
    "validation_message",
]

CHINESE: Final = "zh-CN"
ENGLISH: Final = "en"
DEFAULT_LANGUAGE: Final = CHINESE


def _language_of(tag: str) -> str | None:
    """Ours for a language range (`zh-Hans-CN` -> zh-CN), `*` for any, else None."""
    primary = tag.split("-", 1)[0].lower()
    if primary == "zh":
        return CHINESE
    if primary == "en":
        return ENGLISH
    return "*" if primary == "*" else None


def _weight(params: list[str]) -> float | None:
    """The `q` of a language range: 1 if absent, None if malformed (the range is ignored)."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() != "q":
            continue
        try:
            q = float(value.strip())
        except ValueError:
            return None
        return q if 0 <= q <= 1 else None
    return 1.0


def negotiate(header: str | None) -> str:
    """The language of the answer to a request with this `Accept-Language` header."""
    if header is None or not header.strip():
        return DEFAULT_LANGUAGE
    # Per language: its highest weight and where it first appears (ties go to the first).
    named: dict[str, tuple[float, int]] = {}
    for position, item in enumerate(header.split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        language = _language_of(tag) if tag else None
        q = _weight(params)
        if language is None or q is None:
            continue
        weight, first = named.get(language, (-1.0, position))
        named[language] = (max(weight, q), first)
    star = named.pop("*", None)
    for language in (CHINESE, ENGLISH):
        if language not in named and star is not None:
            named[language] = star
    acceptable = [(q, -first, language) for language, (q, first) in named.items() if q > 0]
    # A header that names only other languages (or refuses ours) gets English.
    return max(acceptable)[2] if acceptable else ENGLISH


def problem_texts(
    language: str, *, code: str, status: int, title: str, detail: str | None
) -> tuple[str, str | None, str | None]:
    """(title, detail, detail_en) of a problem in `language`."""
    if language != CHINESE:
        return title, detail, None
    zh_title = CODE_TITLES.get(code) or TITLES.get(status, title)
    zh_detail = MESSAGES.get(code)
    # A problem raised without a detail stays bare (a refused signature says nothing more).
    if zh_detail is None or detail is None:
        return zh_title, detail, None
    return zh_title, zh_detail, detail if detail != zh_detail else None


def _formatted(template: str, context: Mapping[str, Any] | None) -> str | None:
    try:
        return template.format_map(dict(context or {}))
    except (KeyError, IndexError, ValueError):
        return None


def validation_message(error_type: str, context: Mapping[str, Any] | None) -> str | None:
    """The Chinese message of a pydantic validation error, or None if we have none."""
    template = VALIDATION_MESSAGES.get(error_type)
    if template is None:
        return None
    return _formatted(template, context) or VALIDATION_MESSAGES["value_error"]


def field_message(code: str) -> str | None:
    """The Chinese message of a field error a rule of ours raised, or None."""
    return MESSAGES.get(code)
