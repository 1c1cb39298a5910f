"""Password hashing (Argon2), without Flask: services are handed the app's ``PasswordHashing``
(``accounts.auth.password_hashing()``) like any other setting, so they never look up the
application themselves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from registry.accounts.models import User


@dataclass(frozen=True)
class PasswordHashing:
    """The Argon2 cost of new hashes (``PASSWORD_HASH_*`` settings); verifying reads the cost
    stored in each hash, so a change of cost leaves existing passwords valid."""

    hasher: PasswordHasher
    # A real hash, at the same cost, to verify against when the e-mail is unknown: the answer
    # takes as long as for a known one, so timing does not reveal accounts.
    dummy: str

    @classmethod
    def using(cls, hasher: PasswordHasher) -> PasswordHashing:
        return cls(hasher, hasher.hash("not-a-real-password-but-a-timing-shield"))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PasswordHashing:
        return cls.using(PasswordHasher(time_cost=config["PASSWORD_HASH_TIME_COST"],
                                        memory_cost=config["PASSWORD_HASH_MEMORY_KIB"],
                                        parallelism=config["PASSWORD_HASH_PARALLELISM"]))


@cache
def default_hashing() -> PasswordHashing:
    """argon2-cffi's defaults, the production cost: for code without an app (a script)."""
    return PasswordHashing.using(PasswordHasher())


def hash_password(hashing: PasswordHashing, password: str) -> str:
    return hashing.hasher.hash(password)


def check_password(hashing: PasswordHashing, user: User | None, password: str) -> bool:
    try:
        return hashing.hasher.verify(user.password_hash if user else hashing.dummy,
                                     password) and user is not None
    except (VerificationError, InvalidHashError):
        return False
