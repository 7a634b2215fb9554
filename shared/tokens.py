"""Mint a development token: `python -m shared.tokens role=civil_affairs [org_id=..] [sub=..]`.

Prints the token alone on stdout so scripts can capture it
(`TOKEN=$(make -s token role=auditor)`); errors go to stderr.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from shared.auth import Role, mint_token
from shared.settings import Environment, get_settings

_ALLOWED = {"role", "sub", "org_id", "street_code", "department", "ttl"}


def main(argv: list[str]) -> int:
    settings = get_settings()
    if settings.env is Environment.production:
        print("refusing to mint development tokens with ENV=production", file=sys.stderr)
        return 2
    args: dict[str, str] = {}
    for item in argv:
        name, sep, value = item.partition("=")
        if not sep or name not in _ALLOWED:
            print(
                f"unexpected argument {item!r}; use name=value with {sorted(_ALLOWED)}",
                file=sys.stderr,
            )
            return 2
        if value:
            args[name] = value
    try:
        role = Role(args.get("role", ""))
    except ValueError:
        print(f"role must be one of: {', '.join(r.value for r in Role)}", file=sys.stderr)
        return 2
    ttl = timedelta(seconds=int(args["ttl"])) if "ttl" in args else None
    token = mint_token(
        sub=args.get("sub", f"dev-{role.value}"),
        role=role,
        org_id=args.get("org_id"),
        street_code=args.get("street_code"),
        department=args.get("department"),
        ttl=ttl,
        settings=settings,
    )
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
