"""Why a request was refused, in both languages, without ever echoing the token or its claim values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from guidance_shared.auth.principal import ROLE_NAMES_ZH
from guidance_shared.errors import GuidanceError

REALM = "guidance"


class Reason(NamedTuple):
    """One way a token fails; ``error`` is the RFC 6750 code (None: no credentials were sent at all)."""

    code: str
    error: str | None
    detail_en: str
    detail_zh: str


MISSING = Reason(
    "missing-token",
    None,
    "Send an Authorization: Bearer <token> header.",
    "请在 Authorization 请求头中提供 Bearer 访问令牌。",
)
MALFORMED_HEADER = Reason(
    "malformed-header",
    "invalid_request",
    "The Authorization header must be 'Bearer' followed by one token.",
    "Authorization 请求头应为 Bearer 加一个访问令牌。",
)
MALFORMED_TOKEN = Reason(
    "malformed-token", "invalid_token", "The bearer token is not a well-formed JWT.", "访问令牌不是格式正确的 JWT。"
)
ALGORITHM = Reason(
    "algorithm-not-accepted",
    "invalid_token",
    "The token's signing algorithm is not accepted; accepted: {accepted}.",
    "令牌的签名算法不被接受；可接受的算法：{accepted}。",
)
UNKNOWN_KEY = Reason(
    "unknown-key",
    "invalid_token",
    "The token was signed with a key this service does not trust (unknown kid).",
    "令牌的签名密钥（kid）不在本服务信任的密钥集中。",
)
BAD_SIGNATURE = Reason(
    "bad-signature", "invalid_token", "The token's signature does not verify.", "令牌签名校验未通过。"
)
EXPIRED = Reason("expired", "invalid_token", "The token has expired; obtain a new one.", "令牌已过期，请重新获取。")
NOT_YET_VALID = Reason(
    "not-yet-valid",
    "invalid_token",
    "The token is not valid yet (nbf or iat lies ahead).",
    "令牌尚未生效（nbf 或 iat 晚于当前时间）。",
)
WRONG_ISSUER = Reason(
    "wrong-issuer",
    "invalid_token",
    "The token was not issued by the trusted issuer '{issuer}'.",
    "令牌并非由受信任的签发方“{issuer}”签发。",
)
WRONG_AUDIENCE = Reason(
    "wrong-audience",
    "invalid_token",
    "The token is not meant for this service; expected audience '{audience}'.",
    "令牌的受众不是本服务；应为“{audience}”。",
)
MISSING_CLAIM = Reason(
    "missing-claim", "invalid_token", "The token lacks the required claim '{claim}'.", "令牌缺少必需的声明“{claim}”。"
)
INVALID_CLAIM = Reason(
    "invalid-claim", "invalid_token", "The token's claim '{claim}' {problem_en}.", "令牌的声明“{claim}”{problem_zh}。"
)


class ChallengeError(GuidanceError):
    """A refusal that carries a ``WWW-Authenticate`` challenge (RFC 6750 §3)."""

    challenge: str = f'Bearer realm="{REALM}"'


class Unauthenticated(ChallengeError):
    def __init__(self, reason: Reason, **fmt: str) -> None:
        detail_en, detail_zh = reason.detail_en.format(**fmt), reason.detail_zh.format(**fmt)
        super().__init__(
            code="unauthenticated",
            title_en="Unauthenticated",
            title_zh="未认证",
            status=401,
            detail_en=detail_en,
            detail_zh=detail_zh,
            extra={"reason": reason.code},
        )
        self.reason = reason
        self.challenge = _challenge(reason.error, detail_en)


class ForbiddenRole(ChallengeError):
    def __init__(self, required: Iterable[str], held: Iterable[str]) -> None:
        needed, mine = sorted(required), sorted(held)
        detail_en = (
            f"This operation needs one of the roles {', '.join(needed)}; the token has {', '.join(mine) or 'none'}."
        )
        super().__init__(
            code="forbidden-role",
            title_en="Role not permitted",
            title_zh="角色无权执行该操作",
            status=403,
            detail_en=detail_en,
            detail_zh=f"该操作需要以下角色之一：{_zh(needed)}；令牌中的角色：{_zh(mine) or '无'}。",
            extra={"required_roles": needed},
        )
        self.challenge = _challenge("insufficient_scope", detail_en)


class ForbiddenDepartment(GuidanceError):
    """Names neither the record's department nor anything else about it."""

    def __init__(self) -> None:
        super().__init__(
            code="forbidden-department",
            title_en="Record of another department",
            title_zh="记录属于其他部门",
            status=403,
            detail_en="This record belongs to another department; you may change only your own department's records.",
            detail_zh="该记录属于其他部门；您只能修改本部门的记录。",
        )


class AuthUnavailable(GuidanceError):
    """The key set could not be fetched: our fault or the IdP's, never the caller's, so 503 rather than 401."""

    def __init__(self) -> None:
        super().__init__(
            code="auth-unavailable",
            title_en="Authentication unavailable",
            title_zh="认证服务暂不可用",
            status=503,
            detail_en="The token signing keys could not be fetched; retry later.",
            detail_zh="暂时无法获取令牌签名密钥，请稍后重试。",
        )


def _challenge(error: str | None, description: str) -> str:
    if error is None:
        return f'Bearer realm="{REALM}"'
    # RFC 6750: error_description excludes '"' and '\'; ours are written without them, this keeps it so.
    safe = "".join(ch for ch in description if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\')
    return f'Bearer realm="{REALM}", error="{error}", error_description="{safe}"'


def _zh(roles: list[str]) -> str:
    return "、".join(f"{role}（{ROLE_NAMES_ZH.get(role, role)}）" for role in roles)
