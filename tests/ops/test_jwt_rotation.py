"""JWT key rotation without a hard cutover: `kid` in the header, JWT_SECRETS pairs."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from pydantic import ValidationError

from shared.auth import Role, decode_token, mint_token
from shared.errors import Unauthorized
from shared.settings import DEVELOPMENT_JWT_SECRET, Settings

OLD = "old-" + "o" * 40
NEW = "new-" + "n" * 40


def _token(settings: Settings) -> str:
    return mint_token(sub="rotating", role=Role.civil_affairs, settings=settings)


def test_the_first_key_signs_with_its_kid_and_every_key_verifies() -> None:
    before = Settings(jwt_secrets=f"k1:{OLD}")
    during = Settings(jwt_secrets=f"k2:{NEW},k1:{OLD}")
    after = Settings(jwt_secrets=f"k2:{NEW}")

    old_token = _token(before)
    assert jwt.get_unverified_header(old_token)["kid"] == "k1"
    new_token = _token(during)
    assert jwt.get_unverified_header(new_token)["kid"] == "k2"

    # During the overlap both verify; afterwards the retired key's tokens are refused.
    assert decode_token(old_token, during).sub == "rotating"
    assert decode_token(new_token, during).sub == "rotating"
    assert decode_token(new_token, after).sub == "rotating"
    with pytest.raises(Unauthorized) as refused:
        decode_token(old_token, after)
    assert refused.value.code == "token_invalid"


def test_a_single_jwt_secret_still_works_and_its_tokens_survive_the_switch() -> None:
    single = Settings(jwt_secret=OLD)
    token = _token(single)
    assert "kid" not in jwt.get_unverified_header(token)
    assert decode_token(token, single).sub == "rotating"
    # Rotation starts: the old secret becomes a named key; kid-less tokens try each key.
    rotating = Settings(jwt_secret=OLD, jwt_secrets=f"k2:{NEW},k1:{OLD}")
    assert decode_token(token, rotating).sub == "rotating"
    with pytest.raises(Unauthorized):
        decode_token(token, Settings(jwt_secrets=f"k2:{NEW}"))


def test_a_token_naming_a_key_verifies_only_with_that_key() -> None:
    settings = Settings(jwt_secrets=f"k2:{NEW},k1:{OLD}")
    claims = {"sub": "x", "role": "civil_affairs", "iss": "sanshe", "aud": "sanshe", "exp": 2**40}
    # Signed with k1's secret but claiming k2: refused, not tried against every key.
    forged = jwt.encode(claims, OLD, algorithm="HS256", headers={"kid": "k2"})
    with pytest.raises(Unauthorized):
        decode_token(forged, settings)
    unknown = jwt.encode(claims, OLD, algorithm="HS256", headers={"kid": "k9"})
    with pytest.raises(Unauthorized):
        decode_token(unknown, settings)
    assert (
        decode_token(
            jwt.encode(claims, OLD, algorithm="HS256", headers={"kid": "k1"}), settings
        ).sub
        == "x"
    )


def test_keys_come_from_a_file_and_are_never_shown(tmp_path: Path) -> None:
    path = tmp_path / "jwt_secrets"
    path.write_text(f"k2:{NEW}\nk1:{OLD}\n", encoding="utf-8")
    settings = Settings(env="production", jwt_secrets_file=path)
    assert settings.jwt_keys == (("k2", NEW), ("k1", OLD))
    single = tmp_path / "jwt_secret"
    single.write_text(NEW + "\n", encoding="utf-8")
    assert Settings(jwt_secret_file=single).jwt_keys == ((None, NEW),)
    shown = repr(Settings(jwt_secrets=f"k2:{NEW}", database_url="postgresql://u:pw@h/d"))
    assert NEW not in shown and "pw@" not in shown


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"jwt_secrets": f"k1:{NEW},k2:short"}, "JWT_SECRETS must be at least 32"),
        ({"jwt_secrets": f"k1:{DEVELOPMENT_JWT_SECRET}"}, "JWT_SECRETS must be set"),
        ({"jwt_secrets": NEW}, "kid:secret pairs"),
        ({"jwt_secrets": f"k1:{NEW} k1:{OLD}"}, "kid twice"),
        ({"jwt_secrets_file": "/nonexistent/jwt_secrets"}, "JWT_SECRETS_FILE cannot be read"),
    ],
)
def test_production_refuses_weak_or_malformed_keys(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        Settings(env="production", **values)  # type: ignore[arg-type]
    assert NEW not in str(refused.value)
