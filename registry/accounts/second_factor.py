"""The second factor (issue 16 §4): a TOTP authenticator app and ten single-use recovery codes.

Services as in ``registry.accounts.services``: they take the session and the acting user,
flush, never commit, and import no Flask. The time (``at``) and the key-encryption key come from
the caller, so tests and every server agree on both.

A code is good once: the time step of the last accepted code is stored per user, and accepting
a code is a conditional UPDATE (``last_step < step``) whose row count says who won, so two
requests carrying the same code, on one server or two, cannot both pass.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from enum import StrEnum

import pyotp
from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, func, select

from registry.accounts.models import RecoveryCode, Role, SecondFactor, User
from registry.accounts.passwords import PasswordHashing, check_password
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.exceptions import Conflict, ValidationError
from registry.mail import services as mail
from registry.mail.kinds import MailKind
from registry.signing.kek import Kek

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after the current one pass too (a phone's clock a little off,
# a code typed as it changed).
WINDOW = 1
RECOVERY_CODES = 10
ISSUER = "Made in Bali-NTB-NTT registry"
# Who must have a second factor before deciding, managing users or keys.
REQUIRED_FOR: frozenset[str] = frozenset({Role.OFFICER, Role.ADMIN})


class WrongCode(ValidationError):
    """The code does not confirm the authenticator (wrong, too old, or already used)."""


class Method(StrEnum):
    TOTP = "totp"
    RECOVERY = "recovery"


def required_for(user: User) -> bool:
    return user.role in REQUIRED_FOR


def step_at(at: dt.datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def secret_context(user_id: int) -> str:
    """What a user's sealed seed is bound to (``registry.signing.sealed`` re-seals it)."""
    return f"totp:{user_id}"


def _seed(factor: SecondFactor, kek: Kek) -> str:
    return kek.open(secret_context(factor.user_id), factor.secret, factor.kek_id).decode("ascii")


def factor_of(session: Session, user: User) -> SecondFactor | None:
    return session.get(SecondFactor, user.id)


def is_enrolled(session: Session, user: User) -> bool:
    factor = factor_of(session, user)
    return factor is not None and factor.enrolled_at is not None


def recovery_codes_left(session: Session, user: User) -> int:
    return session.exec(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))).one()


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER)


def start(session: Session, user: User, kek: Kek) -> str:
    """The base32 seed the user is to scan: the one waiting for confirmation if there is one
    (a reload shows the same QR code), else a new one. Not audited: nothing counts until the
    user confirms a code."""
    factor = factor_of(session, user)
    if factor is not None and factor.enrolled_at is not None:
        raise Conflict("a second factor is already enrolled")
    if factor is not None:
        return _seed(factor, kek)
    secret = pyotp.random_base32()
    session.add(SecondFactor(user_id=user.id, secret=kek.seal(secret_context(user.id),
                                                              secret.encode("ascii")),
                             kek_id=kek.id))
    session.flush()
    return secret


def confirm(session: Session, user: User, kek: Kek, code: str, at: dt.datetime) -> list[str]:
    """Switch the waiting authenticator on with a current code (else ``WrongCode``); return
    the recovery codes, which are shown this once and kept only as hashes."""
    factor = factor_of(session, user)
    if factor is None or factor.enrolled_at is not None:
        raise Conflict("no authenticator waits for confirmation")
    if not _accept_totp(session, factor, kek, _normalise(code), at):
        raise WrongCode("wrong code")
    return _switch_on(session, user, factor, at)


def enrol_with_secret(session: Session, actor: User | None, user: User, kek: Kek, secret: str,
                      at: dt.datetime, recovery_codes: list[str] | None = None) -> list[str]:
    """Enrol ``user`` with a known seed, confirmed by nobody: for the demo's documented
    accounts (and the tests' world), never for a real user."""
    pyotp.TOTP(secret).now()  # a malformed seed fails here, not at the first sign-in
    factor = factor_of(session, user)
    if factor is not None:
        raise Conflict("the user already has a second factor")
    factor = SecondFactor(user_id=user.id, kek_id=kek.id,
                          secret=kek.seal(secret_context(user.id), secret.encode("ascii")))
    session.add(factor)
    session.flush()
    return _switch_on(session, user, factor, at, actor=actor, codes=recovery_codes)


def _switch_on(session: Session, user: User, factor: SecondFactor, at: dt.datetime, *,
               actor: User | None = None, codes: list[str] | None = None) -> list[str]:
    factor.enrolled_at = at
    session.add(factor)
    codes = codes or [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=_hash(code)))
    session.flush()
    audit.record(session, actor=actor or user, action=EventTag.Account.SECOND_FACTOR_ENROL,
                 object_type="user", object_id=user.id,
                 after={"method": Method.TOTP, "recovery_codes": len(codes)})
    return codes


def verify(session: Session, user: User, kek: Kek, code: str, at: dt.datetime) -> Method | None:
    """Check a code from the authenticator or a recovery code; each is accepted once. A
    failure is audited; so is the use of a recovery code (its owner should make new ones)."""
    factor = factor_of(session, user)
    cleaned = _normalise(code)
    method: Method | None = None
    if factor is not None and factor.enrolled_at is not None:
        if len(cleaned) == DIGITS and cleaned.isdigit():
            if _accept_totp(session, factor, kek, cleaned, at):
                method = Method.TOTP
        elif _accept_recovery(session, user, cleaned, at):
            method = Method.RECOVERY
            audit.record(session, actor=user, action=EventTag.Account.RECOVERY_CODE_USED,
                         object_type="user", object_id=user.id,
                         after={"left": recovery_codes_left(session, user)})
    if method is None:
        audit.record(session, actor=user, action=EventTag.Account.SECOND_FACTOR_FAILED,
                     object_type="user", object_id=user.id)
    return method


def reauthenticate(session: Session, user: User, *, password: str, code: str, kek: Kek,
                   hashing: PasswordHashing, at: dt.datetime) -> bool:
    """Confirm the signed-in user again, by password or (with an authenticator) a code;
    audited either way."""
    if code.strip() and is_enrolled(session, user):
        ok = verify(session, user, kek, code, at) is not None
    else:
        ok = bool(password) and check_password(hashing, user, password)
    audit.record(session, actor=user, object_type="user", object_id=user.id,
                 action=(EventTag.Account.REAUTHENTICATE if ok
                         else EventTag.Account.REAUTHENTICATE_FAILED))
    return ok


def reset(session: Session, actor: User | None, user: User) -> bool:
    """Remove the user's authenticator and recovery codes (a lost phone); the user is told by
    e-mail. An officer or admin must enrol again before deciding. ``actor`` None: the CLI."""
    factor = factor_of(session, user)
    if factor is None:
        return False
    was_enrolled = factor.enrolled_at is not None
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.delete(factor)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Account.SECOND_FACTOR_RESET,
                 object_type="user", object_id=user.id, before={"enrolled": was_enrolled})
    mail.queue_mail(session, MailKind.SECOND_FACTOR_RESET, to=user, params={"name": user.name})
    return True


def _accept_totp(session: Session, factor: SecondFactor, kek: Kek, code: str,
                 at: dt.datetime) -> bool:
    totp = pyotp.TOTP(_seed(factor, kek), digits=DIGITS, interval=STEP_SECONDS)
    now = step_at(at)
    for step in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Only a step after the last accepted one; the row count tells whether this
            # request won against any other carrying the same code.
            won = session.exec(
                update(SecondFactor)
                .where(col(SecondFactor.user_id) == factor.user_id,
                       or_(col(SecondFactor.last_step).is_(None),
                           col(SecondFactor.last_step) < step))
                .values(last_step=step)
                .execution_options(synchronize_session=False))
            session.expire(factor)
            return bool(won.rowcount == 1)
    return False


def _accept_recovery(session: Session, user: User, code: str, at: dt.datetime) -> bool:
    if not code:
        return False
    used = session.exec(
        update(RecoveryCode)
        .where(col(RecoveryCode.user_id) == user.id, col(RecoveryCode.code_hash) == _hash(code),
               col(RecoveryCode.used_at).is_(None))
        .values(used_at=at)
        .execution_options(synchronize_session=False))
    return bool(used.rowcount == 1)


def _normalise(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())[:64]


def _new_recovery_code() -> str:
    # 80 random bits in base32 (no 0/1/8/9 to misread), shown as four groups of four.
    raw = secrets.token_bytes(10)
    text = base64.b32encode(raw).decode("ascii").lower()
    return "-".join(text[i:i + 4] for i in range(0, 16, 4))


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode("ascii")).hexdigest()
