"""Password-reset links (issue 16 §2): signed, valid one hour, single use, nothing stored.

The link carries the user id and a fingerprint of the current password hash, signed with the
app's secret key and timestamped by the registry's clock. Once the password changes (the reset
itself, or a change), the fingerprint no longer matches: the link was used. No raw token sits
in the database for a dump to leak (Warehouse's approach). No Flask, no database.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from registry.clock import utcnow

SALT = "registry.accounts.password-reset"
MAX_AGE_SECONDS = 3600


class _ClockSigner(TimestampSigner):
    # The registry's clock, so a test moves time for links as for everything else.
    def get_timestamp(self) -> int:
        return int(utcnow().timestamp())


class LinkProblem(StrEnum):
    EXPIRED = "expired"
    USED = "used"  # the password changed since the link was made
    INVALID = "invalid"


class BadLink(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:24]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT, signer=_ClockSigner)


def make_token(secret: str, user_id: int, password_hash: str) -> str:
    return _serializer(secret).dumps({"u": user_id, "p": fingerprint(password_hash)})


def read_token(secret: str, token: str, max_age: int = MAX_AGE_SECONDS) -> tuple[int, str]:
    """The user id and password fingerprint a link was made for; ``BadLink`` if it is
    expired or not ours. Whether it was used is for the caller (``check_unused``)."""
    try:
        data = _serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadLink(LinkProblem.EXPIRED) from None
    except BadSignature:
        raise BadLink(LinkProblem.INVALID) from None
    if not (isinstance(data, dict) and isinstance(data.get("u"), int)
            and isinstance(data.get("p"), str)):
        raise BadLink(LinkProblem.INVALID)
    return data["u"], data["p"]


def check_unused(link_fingerprint: str, password_hash: str) -> None:
    if link_fingerprint != fingerprint(password_hash):
        raise BadLink(LinkProblem.USED)
