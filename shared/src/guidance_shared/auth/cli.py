"""``guidance auth``: development keys and tokens for an embedded install (never for production).

guidance auth keys [--var-dir DIR]     make the development key pair if missing; print the JWKS path
guidance auth mint --sub SUB --department UUID --roles officer,reviewer
                   [--departments UUID,UUID] [--name NAME] [--ttl 8h] [--var-dir DIR] [--out FILE]
                                       print a token signed with the development key (or write it to FILE,
                                       mode 0600, and print FILE: a service's token file, deploy/compose.yaml)
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from guidance_shared.auth.devkeys import claims_for, ensure_dev_keys
from guidance_shared.auth.principal import KNOWN_ROLES
from guidance_shared.auth.settings import AuthSettings
from guidance_shared.files import write_atomic
from guidance_shared.settings import SettingsError

_TTL = re.compile(r"(\d+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        settings = AuthSettings.from_env("auth", var_dir=args.var_dir)
        if settings.jwks_is_url:
            raise SettingsError(
                f"GUIDANCE_AUTH_JWKS is {settings.jwks}: services trust that key set, not the development key"
            )
        key = ensure_dev_keys(settings)
        if args.command == "keys":
            print(settings.jwks_path)
            return 0
        claims = claims_for(
            settings=settings,
            sub=args.sub,
            department_id=_department(args.department),
            departments=[_department(d) for d in _list(args.departments)],
            roles=_roles(args.roles),
            name=args.name,
            ttl=_ttl(args.ttl),
        )
    except SettingsError as exc:
        print(f"guidance auth: {exc}", file=sys.stderr)
        return 2
    token = key.sign(claims)
    if args.out is None:
        print(token)
        return 0
    write_atomic(Path(args.out), (token + "\n").encode("ascii"), mode=0o600)
    print(args.out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guidance auth", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys", help="make the development key pair if missing; print the JWKS path")
    keys.add_argument("--var-dir", help="state directory (default: GUIDANCE_VAR_DIR or var)")
    mint = commands.add_parser("mint", help="print a token signed with the development key")
    mint.add_argument("--sub", required=True, help="subject: the user's id at the identity provider")
    mint.add_argument("--department", required=True, help="home department UUID (claim department_id)")
    mint.add_argument("--roles", required=True, help=f"comma-separated, of {','.join(KNOWN_ROLES)}")
    mint.add_argument("--departments", default="", help="further department UUIDs a supervisor or auditor oversees")
    mint.add_argument("--name", help="display name")
    mint.add_argument("--ttl", default="8h", help="lifetime: 3600, 90s, 30m, 8h or 1d (default 8h)")
    mint.add_argument("--var-dir", help="state directory (default: GUIDANCE_VAR_DIR or var)")
    mint.add_argument("--out", help="write the token to this file (mode 0600, replaced whole) and print its path")
    return parser


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _department(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise SettingsError(f"--department/--departments must be UUIDs, not {raw!r}") from None


def _roles(raw: str) -> list[str]:
    roles = _list(raw)
    unknown = [role for role in roles if role not in KNOWN_ROLES]
    if unknown or not roles:
        raise SettingsError(
            f"--roles must list some of {', '.join(KNOWN_ROLES)}; unknown: {', '.join(unknown) or 'none given'}"
        )
    return roles


def _ttl(raw: str) -> timedelta:
    match = _TTL.fullmatch(raw.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise SettingsError(f"--ttl must be a positive duration such as 3600, 30m, 8h or 1d, not {raw!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
