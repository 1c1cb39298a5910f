"""Account services: take the session and the acting user, flush, never commit."""

from __future__ import annotations

import secrets

from sqlmodel import Session, col, delete, select, update

from registry.accounts import reset
from registry.accounts.models import (
    ROLE_ORG_KIND,
    Organisation,
    OrgKind,
    PasswordResetRequest,
    Role,
    User,
    UserStatus,
)
from registry.accounts.passwords import PasswordHashing, check_password, hash_password
from registry.accounts.rules import decline_reason_problem
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.clock import utcnow
from registry.db import flush_unique
from registry.exceptions import Conflict, Forbidden, NotFound, Taken, ValidationError
from registry.mail import services as mail
from registry.mail.kinds import MailKind
from registry.notifications import services as notifications
from registry.reference import PROVINCES


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    """The account with this address. A declined sign-up is no account any more: its address
    may belong to a new sign-up (the unique index leaves declined accounts out, too)."""
    return session.exec(select(User).where(User.email == normalise_email(email),
                                           User.status != UserStatus.DECLINED)).first()


def organisation_of(session: Session, user: User) -> Organisation:
    return session.get_one(Organisation, user.organisation_id)


def officer_province(session: Session, user: User) -> str | None:
    if user.role != Role.OFFICER:
        return None
    return organisation_of(session, user).province_code


def _user_snapshot(user: User) -> dict[str, object]:
    return {"email": user.email, "role": user.role, "status": user.status,
            "organisation_id": user.organisation_id}


def signup_exporter(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    company_name: str,
    nib: str,
    province_code: str,
    address: str,
    hashing: PasswordHashing,
    locale: str | None = None,
) -> User | None:
    """Register a company and its first user, waiting for activation; or, when the e-mail or
    the NIB is registered already, tell their holders by mail and return None.

    The caller answers the same either way, and both ways take as long (issue 16 §3: the
    sign-up form told anyone which addresses and NIBs had accounts, also by its timing): the
    password is hashed and a mail written in both."""
    if province_code not in PROVINCES:
        raise ValidationError("unknown province", fields={"province_code": "unknown"})
    email = normalise_email(email)
    existing = user_by_email(session, email)
    company = session.exec(select(Organisation).where(Organisation.nib == nib)).first()
    # Hashed before the first INSERT (on SQLite the write lock is held from there to the
    # commit, and Argon2 takes a while), and also when nothing will be stored.
    password_hash = hash_password(hashing, password)
    if existing is not None or company is not None:
        _tell_holders(session, existing=existing, company=company, applicant=email,
                      nib=nib, locale=locale)
        return None
    org = Organisation(kind=OrgKind.EXPORTER, name=company_name.strip(), nib=nib,
                       province_code=province_code, address=address.strip())
    try:
        session.add(org)
        flush_unique(session, {"nib": "nib"})
        user = User(email=email, name=name.strip(), password_hash=password_hash,
                    role=Role.EXPORTER, status=UserStatus.PENDING, organisation_id=org.id)
        session.add(user)
        flush_unique(session, {"email": "email"})
    except Taken:
        # A racing sign-up registered the address or the NIB between the check and the
        # INSERT; this transaction was rolled back, and its holders are told like any other.
        _tell_holders(session, existing=user_by_email(session, email),
                      company=session.exec(select(Organisation).where(
                          Organisation.nib == nib)).first(),
                      applicant=email, nib=nib, locale=locale)
        return None
    audit.record(session, actor=user, action=EventTag.Organisation.CREATE,
                 object_type="organisation",
                 object_id=org.id, after={"name": org.name, "nib": nib, "kind": org.kind,
                                          "province_code": province_code})
    audit.record(session, actor=user, action=EventTag.Account.SIGNUP, object_type="user",
                 object_id=user.id, after=_user_snapshot(user))
    notifications.signup_waiting(session, user, org)
    return user


def _tell_holders(session: Session, *, existing: User | None, company: Organisation | None,
                  applicant: str, nib: str, locale: str | None) -> None:
    """Someone signed up with a registered address (its owner is told: perhaps they forgot
    they have an account) or a registered NIB (the company's users are told: perhaps a
    colleague wants an account, which they can ask the registry for). Recorded too: many of
    these are someone probing which addresses have accounts."""
    audit.record(session, actor=None, action=EventTag.Account.SIGNUP_EXISTING,
                 object_type="user" if existing is not None else "organisation",
                 object_id=existing.id if existing is not None else (
                     company.id if company is not None else None),
                 after={"email": applicant, "nib": nib})
    if existing is not None:
        mail.queue_mail(session, MailKind.SIGNUP_EXISTING, to=existing, locale=locale,
                        params={"name": existing.name, "clash": "email"})
        return
    if company is None:
        return
    holders = session.exec(select(User).where(User.organisation_id == company.id,
                                              User.status != UserStatus.DISABLED)).all()
    for holder in holders:
        mail.queue_mail(session, MailKind.SIGNUP_EXISTING, to=holder, locale=locale,
                        params={"name": holder.name, "clash": "nib", "company": company.name,
                                "nib": nib, "applicant": applicant})


def authenticate(session: Session, *, email: str, password: str,
                 hashing: PasswordHashing) -> User | None:
    """Check credentials. A failure (or an account that may not sign in) is recorded here;
    a password that passes is not a sign-in yet: the view records ``signed_in`` once the
    user is (after the second factor where one is enrolled), or ``password_passed``."""
    user = user_by_email(session, email)
    ok = check_password(hashing, user, password)
    if not ok or user is None:
        audit.record(session, actor=None, action=EventTag.Account.LOGIN_FAILED, object_type="user",
                     object_id=user.id if user else None,
                     after={"email": normalise_email(email)[:254]})
        return None
    if user.status != UserStatus.ACTIVE:
        audit.record(session, actor=user, action=EventTag.Account.LOGIN_REFUSED, object_type="user",
                     object_id=user.id, after={"status": user.status})
        return user
    return user


def password_passed(session: Session, user: User) -> None:
    """The password passed and the second step (the authenticator's code) is awaited.
    Recorded on its own, not as a sign-in: a right password that never gets past the
    second step means someone else may know it, which the owner and the administrators
    should be able to read in the log (beside the wrong codes that may follow)."""
    audit.record(session, actor=user, action=EventTag.Account.LOGIN_PASSWORD,
                 object_type="user", object_id=user.id)


def signed_in(session: Session, user: User, *, second_factor: str | None = None) -> None:
    """The user is signed in: after the password, or after the second step (``second_factor``
    says which: "totp" or "recovery")."""
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(session, actor=user, action=EventTag.Account.LOGIN, object_type="user",
                 object_id=user.id,
                 after={"second_factor": second_factor} if second_factor else None)


# The languages a user's choice is saved in: those the registry writes mail in.
SAVED_LOCALES = mail.LOCALES


def set_locale(session: Session, actor: User, locale: str) -> None:
    """The language the actor chose on the registry's pages: their mails are written in it."""
    if locale not in SAVED_LOCALES:
        raise ValidationError("unknown language", fields={"locale": "unknown"})
    before = actor.locale
    if before == locale:
        return
    actor.locale = locale
    session.add(actor)
    audit.record(session, actor=actor, action=EventTag.Account.LOCALE, object_type="user",
                 object_id=actor.id, before={"locale": before}, after={"locale": locale})


def logout(session: Session, user: User) -> None:
    # A new nonce invalidates the session id held by every cookie issued so far.
    _rotate_sessions(user)
    session.add(user)
    audit.record(session, actor=user, action=EventTag.Account.LOGOUT,
                 object_type="user", object_id=user.id)


def _rotate_sessions(user: User) -> None:
    user.session_nonce = secrets.token_urlsafe(16)


def _password_changed_mail(session: Session, user: User, *, how: str,
                           locale: str | None) -> None:
    # API tokens are not sessions: they keep working, and the mail says where to revoke them.
    mail.queue_mail(session, MailKind.PASSWORD_CHANGED, to=user, locale=locale, params={
        "name": user.name, "how": how,
        "tokens": user.role in (Role.EXPORTER, Role.OFFICER)})


def change_password(session: Session, user: User, *, current: str, new: str,
                    hashing: PasswordHashing, locale: str | None = None) -> None:
    """The signed-in user's own change: the current password proves it is them. Every
    session of the user ends (the caller signs the current one in again)."""
    if not check_password(hashing, user, current):
        raise ValidationError("wrong password",
                              fields={"current_password": "wrong_password"})
    _set_password(session, user, new, hashing=hashing, actor=user,
                  action=EventTag.Account.PASSWORD_CHANGE, how="change", locale=locale)


def request_password_reset(session: Session, *, email: str, locale: str | None = None) -> int:
    """Record that a reset link was asked for: the event, and a request row (the address as
    typed, normalised) that ``send_reset_link`` turns into the mail after the answer, on the
    task queue or, if the queue did not answer, in the worker's minute sweep. The request does
    the same work whether or not the address has an account, so neither its answer nor its
    timing tells. Returns the request's id."""
    email = normalise_email(email)[:254]
    user = user_by_email(session, email)
    audit.record(session, actor=None, action=EventTag.Account.PASSWORD_RESET_REQUEST,
                 object_type="user", object_id=user.id if user else None,
                 after={"email": email})
    request = PasswordResetRequest(email=email, locale=(locale or None) and locale[:8])
    session.add(request)
    session.flush()
    return request.id


def send_reset_link(session: Session, *, request_id: int, secret: str) -> bool:
    """Take the reset request ``request_id`` and mail a reset link to the account with its
    address, if there is one that may sign in (a disabled account is re-enabled by the
    administrators, not by a mail); an unknown address's request is just deleted. The DELETE
    is conditional and the mail is written in its transaction, so the task and a sweep (or
    two workers) never both mail one request, and a worker that dies before its commit
    leaves the request to the next sweep. False when someone else took it first."""
    request = session.get(PasswordResetRequest, request_id)
    if request is None:
        return False
    taken = session.exec(delete(PasswordResetRequest).where(
        col(PasswordResetRequest.id) == request_id))
    if taken.rowcount != 1:
        return False
    user = user_by_email(session, request.email)
    if user is None or user.status == UserStatus.DISABLED:
        return True
    mail.queue_mail(session, MailKind.PASSWORD_RESET, to=user, locale=request.locale, params={
        "name": user.name, "token": reset.make_token(secret, user.id, user.password_hash)})
    return True


def waiting_reset_requests(session: Session, *, limit: int = 500) -> list[int]:
    """Reset requests not taken yet (the queue did not answer, or a worker died), oldest
    first."""
    return list(session.exec(select(PasswordResetRequest.id).order_by(
        col(PasswordResetRequest.id)).limit(limit)).all())


def user_for_reset(session: Session, *, token: str, secret: str) -> User:
    """The user a reset link is for; ``reset.BadLink`` if it expired, was used (the password
    changed since) or is not ours."""
    user_id, fingerprint = reset.read_token(secret, token)
    user = session.get(User, user_id)
    if user is None or user.status == UserStatus.DISABLED:
        raise reset.BadLink(reset.LinkProblem.INVALID)
    reset.check_unused(fingerprint, user.password_hash)
    return user


def reset_password(session: Session, *, token: str, new: str, secret: str,
                   hashing: PasswordHashing, locale: str | None = None) -> User:
    """Set a new password through a mailed link: every session of the user ends."""
    user = user_for_reset(session, token=token, secret=secret)
    _set_password(session, user, new, hashing=hashing, actor=None,
                  action=EventTag.Account.PASSWORD_RESET, how="reset", locale=locale)
    return user


def _set_password(session: Session, user: User, new: str, *, hashing: PasswordHashing,
                  actor: User | None, action: EventTag.Account, how: str,
                  locale: str | None) -> None:
    """A new password, by a change or a reset: every session of the user ends, the event is
    recorded and the user told by mail."""
    user.password_hash = hash_password(hashing, new)
    _rotate_sessions(user)
    session.add(user)
    audit.record(session, actor=actor, action=action, object_type="user", object_id=user.id)
    _password_changed_mail(session, user, how=how, locale=locale)


def account_locked(session: Session, *, email: str, secret: str,
                   locale: str | None = None) -> None:
    """Failed sign-ins locked this address's account for a while: its owner (if there is
    one) gets a reset link, in case it is them who forgot, and the event is recorded."""
    user = user_by_email(session, email)
    audit.record(session, actor=None, action=EventTag.Account.LOCKED, object_type="user",
                 object_id=user.id if user else None,
                 after={"email": normalise_email(email)[:254]})
    if user is None or user.status == UserStatus.DISABLED:
        return
    mail.queue_mail(session, MailKind.ACCOUNT_LOCKED, to=user, locale=locale, params={
        "name": user.name, "token": reset.make_token(secret, user.id, user.password_hash)})


def create_organisation(
    session: Session, actor: User, *, kind: OrgKind, name: str, province_code: str | None,
    nib: str | None = None, address: str = "",
) -> Organisation:
    if actor.role != Role.ADMIN:
        raise Forbidden("only an admin creates organisations")
    if kind in (OrgKind.TRADE_OFFICE, OrgKind.EXPORTER) and province_code not in PROVINCES:
        raise ValidationError("province required", fields={"province_code": "required"})
    if nib and session.exec(select(Organisation).where(Organisation.nib == nib)).first():
        raise ValidationError("NIB taken", fields={"nib": "taken"})
    org = Organisation(kind=kind, name=name.strip(), province_code=province_code or None,
                       nib=nib or None, address=address.strip())
    session.add(org)
    flush_unique(session, {"nib": "nib"})
    audit.record(session, actor=actor, action=EventTag.Organisation.CREATE,
                 object_type="organisation",
                 object_id=org.id, after={"name": org.name, "kind": kind,
                                          "province_code": province_code})
    return org


def create_user(
    session: Session, actor: User | None, *, email: str, name: str, role: Role,
    organisation_id: int, password: str, hashing: PasswordHashing,
) -> User:
    """Admins create officers, printers and admins (``actor`` None only from the CLI)."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("only an admin creates users")
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise ValidationError("unknown organisation", fields={"organisation_id": "unknown"})
    if org.kind != ROLE_ORG_KIND[role]:
        raise ValidationError("role does not fit organisation",
                              fields={"organisation_id": "wrong_kind"})
    email = normalise_email(email)
    if user_by_email(session, email) is not None:
        raise ValidationError("email taken", fields={"email": "taken"})
    user = User(email=email, name=name.strip(), password_hash=hash_password(hashing, password),
                role=role, status=UserStatus.ACTIVE, organisation_id=organisation_id)
    session.add(user)
    flush_unique(session, {"email": "email"})
    audit.record(session, actor=actor, action=EventTag.Account.CREATE, object_type="user",
                 object_id=user.id, after=_user_snapshot(user))
    return user


def pending_exporters(session: Session, actor: User) -> list[tuple[User, Organisation]]:
    query = (
        select(User, Organisation)
        .join(Organisation, col(Organisation.id) == User.organisation_id)
        .where(User.status == UserStatus.PENDING)
        .order_by(col(User.created_at))
    )
    if actor.role == Role.OFFICER:
        query = query.where(Organisation.province_code == officer_province(session, actor))
    elif actor.role != Role.ADMIN:
        raise Forbidden("not allowed")
    return [(u, o) for u, o in session.exec(query).all()]


class NotPending(Conflict):
    """An officer may only activate a sign-up waiting for activation: an account the
    administrators disabled is theirs to re-enable."""


class Declined(Conflict):
    """A declined sign-up stays declined: its NIB and e-mail address are free for a new
    sign-up, which is how the company applies again."""


class StatusChanged(Conflict):
    """Someone else changed the account's status between reading and writing it (two
    offices, or an office and the administrators, deciding at once)."""


def _signup_for(session: Session, actor: User, user_id: int) -> tuple[User, Organisation]:
    """A sign-up ``actor`` may decide on: an officer the exporters of the office's province,
    an admin any; NotFound otherwise, so ids reveal nothing."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    org = organisation_of(session, user)
    if actor.role == Role.OFFICER:
        if user.role != Role.EXPORTER or org.province_code != officer_province(session, actor):
            raise NotFound("no such user")
    elif actor.role != Role.ADMIN:
        raise Forbidden("not allowed")
    return user, org


def check_signup_visible(session: Session, actor: User, user_id: int) -> None:
    """NotFound (or Forbidden) unless ``actor`` may decide on this sign-up: a view asks before
    it looks at the form, so another province's ids answer 404 whatever was posted."""
    _signup_for(session, actor, user_id)


def decline_signup(session: Session, actor: User, *, user_id: int, reason: str) -> User:
    """Decline a sign-up waiting for activation, with a reason the applicant is told by mail.

    The account stays, DECLINED: it never signs in, and the audit trail keeps who applied. Its
    e-mail address (left out of the unique index) and its company's NIB (set to NULL here; the
    events keep it) become free, so the company can sign up again once it fixed what the office
    asked for. The NIB stays taken when someone else still uses that organisation."""
    user, org = _signup_for(session, actor, user_id)
    if user.status != UserStatus.PENDING or user.role != Role.EXPORTER:
        raise NotPending("only sign-ups waiting for activation can be declined")
    problem = decline_reason_problem(reason)
    if problem is not None:
        raise ValidationError("invalid reason", fields={"reason": problem})
    reason = reason.strip()
    before = _user_snapshot(user)
    # Conditional, so a second office's click (or an activation) that got there first wins
    # and this one is told, rather than both going through.
    done = session.exec(update(User).where(
        col(User.id) == user.id, col(User.status) == UserStatus.PENDING,
    ).values(status=UserStatus.DECLINED, session_nonce=secrets.token_urlsafe(16)))
    if done.rowcount != 1:
        raise NotPending("only sign-ups waiting for activation can be declined")
    session.refresh(user)
    audit.record(session, actor=actor, action=EventTag.Account.DECLINE, object_type="user",
                 object_id=user.id, before=before,
                 after={**_user_snapshot(user), "reason": reason})
    others = session.exec(select(User.id).where(
        User.organisation_id == org.id, User.id != user.id,
        User.status != UserStatus.DECLINED)).first()
    if org.nib is not None and others is None:
        released = org.nib
        org.nib = None
        session.add(org)
        session.flush()
        audit.record(session, actor=actor, action=EventTag.Organisation.SIGNUP_DECLINED,
                     object_type="organisation", object_id=org.id,
                     before={"nib": released}, after={"nib": None, "reason": reason})
    # Who declined, as the applicant reads it: the officer's trade office by its name, or
    # the registry's administrators (words the mail writes in the applicant's language).
    decider = ({"decided_by": "admins"} if actor.role == Role.ADMIN else
               {"decided_by": "office", "office": organisation_of(session, actor).name})
    mail.queue_mail(session, MailKind.SIGNUP_DECLINED, to=user, params={
        "name": user.name, "company": org.name, "reason": reason,
        "province": PROVINCES.get(org.province_code or "", ""), **decider})
    return user


def set_user_status(session: Session, actor: User, *, user_id: int, status: UserStatus) -> User:
    """Officers activate exporters of their province; admins manage anyone but themselves."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if actor.role == Role.OFFICER:
        org = organisation_of(session, user)
        if user.role != Role.EXPORTER or org.province_code != officer_province(session, actor):
            raise NotFound("no such user")
        if status != UserStatus.ACTIVE:
            raise Forbidden("officers can only activate exporters")
        if user.status != UserStatus.PENDING:
            # A disabled account was disabled by the administrators, for a reason the office
            # may not know: only they re-enable it (issue 11: an officer undid it silently).
            raise NotPending("only sign-ups waiting for activation can be activated by a trade "
                             "office; a disabled account is re-enabled by the administrators")
    elif actor.role != Role.ADMIN:
        raise Forbidden("not allowed")
    if user.id == actor.id:
        raise Conflict("you cannot change your own status")
    if user.status == UserStatus.DECLINED:
        raise Declined("a declined sign-up stays declined; the company signs up again")
    before = _user_snapshot(user)
    first_activation = user.status == UserStatus.PENDING and status == UserStatus.ACTIVE
    values: dict[str, object] = {"status": status}
    if status != UserStatus.ACTIVE:
        values["session_nonce"] = secrets.token_urlsafe(16)
    # Conditional on the status read above, as declining is: a decline (or another office's
    # activation, or an admin's change) that committed in between wins, and this one is
    # told, rather than overwriting it (a declined account came back to life).
    done = session.exec(update(User).where(
        col(User.id) == user.id, col(User.status) == before["status"]).values(**values))
    if done.rowcount != 1:
        session.refresh(user)
        if user.status == UserStatus.DECLINED:
            raise Declined("a declined sign-up stays declined; the company signs up again")
        raise StatusChanged("the account's status changed meanwhile; look again")
    session.refresh(user)
    audit.record(session, actor=actor, action=EventTag.Account(f"user.{status.value}"),
                 object_type="user",
                 object_id=user.id, before=before, after=_user_snapshot(user))
    if first_activation:
        mail.queue_mail(session, MailKind.ACCOUNT_ACTIVATED, to=user, params={
            "name": user.name, "company": organisation_of(session, user).name})
    return user


def list_users(session: Session, actor: User) -> list[tuple[User, Organisation]]:
    if actor.role != Role.ADMIN:
        raise Forbidden("not allowed")
    query = select(User, Organisation).join(Organisation,
                                            col(Organisation.id) == User.organisation_id)
    return [(u, o) for u, o in session.exec(query.order_by(col(User.email))).all()]


def list_organisations(session: Session, kind: OrgKind | None = None) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return list(session.exec(query).all())
