"""Resident ID numbers (居民身份证号码, GB 11643-1999) of legal representatives.

`python-stdnum` checks the number's date and GB 11643 check digit; each failure has
its own code. Shown masked to whoever may not see them (`access.may_see_id_numbers`).
"""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric

from services.registry.organizations.uscc import CodeError


def resident_id_error(number: str, *, today: date | None = None) -> CodeError | None:
    """Why a Chinese resident ID number (GB 11643) is invalid, or None.

    Each of stdnum's checks has its own code, so that a clerk knows what to look at;
    a birth date after `today` is refused too (stdnum does not check it).
    """
    birth_date_error = CodeError(
        "id_number_birth_date", "Characters 7-14 of the ID number are not a birth date"
    )
    try:
        ric.validate(number)
    except ric.InvalidLength:
        return CodeError("id_number_length", "A resident ID number has 18 characters")
    except ric.InvalidFormat:
        return CodeError("id_number_format", "A resident ID number is 17 digits and a digit or X")
    except ric.InvalidChecksum:
        return CodeError(
            "id_number_checksum", "The 18th character (check digit) of the ID number does not match"
        )
    except ric.InvalidComponent:
        try:
            ric.get_birth_date(number)
        except ric.ValidationError:
            return birth_date_error
        return CodeError(
            "id_number_region", "Characters 1-6 of the ID number are not a known division code"
        )
    except ric.ValidationError:
        return CodeError("id_number_invalid", "Not a valid resident ID number")
    if today is not None and ric.get_birth_date(number) > today:
        return birth_date_error
    return None


def mask_id_number(number: str | None) -> str | None:
    """Keep the region (first 6) and the last two characters: 340103**********3X."""
    if not number:
        return number
    return number[:6] + "*" * (len(number) - 8) + number[-2:]
