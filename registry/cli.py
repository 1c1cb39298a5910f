"""Project commands: ``flask --app registry db upgrade | users create | audit verify|checkpoint|key
| demo``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from registry.accounts import second_factor
from registry.accounts import services as accounts
from registry.accounts.auth import password_hashing
from registry.accounts.models import Organisation, OrgKind, Role
from registry.accounts.rules import password_problem
from registry.audit import services as audit
from registry.audit.tags import EventTag, ObjectType
from registry.checkpoints import services as checkpoints
from registry.checkpoints.keydir import AuditKeyFolder
from registry.checkpoints.keys import AuditKeyError, AuditKeyStore, default_origin
from registry.checkpoints.note import NoteError, VerifierKey, open_checkpoint, split_notes
from registry.checkpoints.rules import Extension, Kept
from registry.db import migrate
from registry.web.database import open_session

db_cli = AppGroup("db", help="Database schema.")
users_cli = AppGroup("users", help="User accounts.")
audit_cli = AppGroup("audit", help="The hash-chained audit log.")
figures_cli = AppGroup("figures", help="The figures' summary table.")
facts_cli = AppGroup("facts", help="The labels' verification facts kept on their batches.")


def _session() -> Session:
    return Session(current_app.extensions["engine"], expire_on_commit=False)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to REVISION (default: head)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    migrate.revision(current_app.config["DATABASE_URL"], message)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--organisation", "org_name", required=True,
              help="Organisation name; created if it does not exist.")
@click.option("--province", type=click.Choice(["51", "52", "53"]), default=None)
@click.password_option()
def users_create(email: str, name: str, role: str, org_name: str, province: str | None,
                 password: str) -> None:
    """Create an officer, printer or admin (exporters sign up on the web)."""
    problem = password_problem(password, email=email)
    if problem is not None:
        raise click.BadParameter(f"password refused: {problem.value}")
    kind = {"officer": OrgKind.TRADE_OFFICE, "printer": OrgKind.PRINTER,
            "admin": OrgKind.ADMIN, "exporter": OrgKind.EXPORTER}[role]
    with _session() as session:
        org = session.exec(
            select(Organisation).where(Organisation.name == org_name, Organisation.kind == kind)
        ).first()
        if org is None:
            if kind is OrgKind.TRADE_OFFICE and province is None:
                raise click.BadParameter("a trade office needs --province")
            org = Organisation(kind=kind, name=org_name, province_code=province)
            session.add(org)
            session.flush()
            audit.record(session, actor=None, action=EventTag.Organisation.CREATE,
                         object_type="organisation", object_id=org.id,
                         after={"name": org_name, "kind": kind, "province_code": province})
        try:
            user = accounts.create_user(session, None, email=email, name=name, role=Role(role),
                                        organisation_id=org.id, password=password,
                                        hashing=password_hashing())
        except Exception as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"created {user.role} {user.email}")


@users_cli.command("reset-2fa")
@click.argument("email")
def users_reset_2fa(email: str) -> None:
    """Remove EMAIL's authenticator and recovery codes (a lost phone): audited, and the user
    is told by e-mail. Officers and admins enrol again at their next decision."""
    # The app's session, so the mail leaves right after the commit (not at the next sweep).
    with open_session(current_app) as session:
        user = accounts.user_by_email(session, email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        if not second_factor.reset(session, None, user):
            click.echo(f"{user.email} has no second factor; nothing to reset")
            return
        session.commit()
        click.echo(f"second factor of {user.email} reset; they were told by e-mail")


@audit_cli.command("verify")
@click.option("--checkpoint", "paths", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="A checkpoint file kept outside the registry (it may hold many), or a "
                   "directory of them; repeatable.")
@click.option("--key", "vkey", default=None,
              help="The audit verifier key (name+hash+key) or a file holding it, as kept "
                   "outside the registry. Default: the registry's own, which an insider could "
                   "have replaced.")
def audit_verify(paths: tuple[Path, ...], vkey: str | None) -> None:
    """Recompute the hash chain; exit 1 and name the first broken link if it was tampered.
    With --checkpoint, also prove that the log extends every kept checkpoint (exit 1 naming
    the first event that does not; exit 2 if a kept file does not verify under the key)."""
    unreadable: list[str] = []
    with _session() as session:
        report = audit.verify_chain(session)
        failed = not report.ok
        if failed:
            click.echo(f"audit log BROKEN at event #{report.broken_seq}: {report.problem} "
                       f"({report.checked} events verified before it)", err=True)
        if paths:
            verifier = _verifier_key(vkey)
            kept, unreadable = _kept_checkpoints(paths, verifier)
            for problem in unreadable:
                click.echo(f"checkpoint refused: {problem}", err=True)
            if kept:
                extension = checkpoints.check_extension(session, kept)
                failed = _report_extension(extension) or failed
            else:
                click.echo("no kept checkpoint could be verified", err=True)
        elif not failed:
            click.echo("(a recomputed chain proves nothing against its keeper: add "
                       "--checkpoint with checkpoints kept outside the registry)")
    if failed:
        sys.exit(1)
    if unreadable:  # an office's copy that does not verify is itself a finding
        sys.exit(2)
    click.echo(f"audit log intact: {report.checked} events")


def _verifier_key(vkey: str | None) -> VerifierKey:
    if vkey is None:
        own = AuditKeyStore.for_app(current_app).verifier()
        if own is None:
            raise click.ClickException("no audit key: give --key")
        click.echo("warning: checking against the registry's own audit key; give --key with "
                   "the key kept outside the registry", err=True)
        return own
    text = vkey
    if "+" not in vkey and Path(vkey).is_file():
        text = Path(vkey).read_text("utf-8")
    try:
        return VerifierKey.parse(text)
    except NoteError as exc:
        raise click.BadParameter(str(exc), param_hint="--key") from None


def _kept_checkpoints(paths: tuple[Path, ...], verifier: VerifierKey) -> (
    tuple[list[Kept], list[str]]
):
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    kept: list[Kept] = []
    problems: list[str] = []
    for file in files:
        try:
            notes = split_notes(file.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{file}: {exc}")
            continue
        for number, text in enumerate(notes, 1):
            source = f"{file}" if len(notes) == 1 else f"{file} (note {number})"
            try:
                kept.append(Kept(source, open_checkpoint(text, verifier)))
            except NoteError as exc:
                problems.append(f"{source}: {exc}")
    return kept, problems


def _report_extension(ext: Extension) -> bool:
    """Print what the kept checkpoints prove; True if the log does not extend them."""
    if ext.conflict:
        click.echo(f"checkpoints CONFLICT: {ext.conflict}", err=True)
    if ext.first_bad is None:
        click.echo(f"audit log extends every kept checkpoint ({ext.checkpoints} sizes "
                   f"checked, the largest {ext.extended_up_to})")
        return ext.conflict is not None
    assert ext.bad_until is not None
    shorter = (f"; the log has only {ext.events} events"
               if ext.events < ext.bad_until else "")
    click.echo(f"audit log does NOT extend the checkpoint of size {ext.bad_until} kept in "
               f"{ext.bad_source}{shorter}", err=True)
    if ext.exact:
        click.echo(f"first event that does not extend the kept checkpoints: #{ext.first_bad} "
                   f"(checkpoints of sizes {ext.first_bad - 1} and {ext.first_bad} were kept: "
                   f"this event was changed, removed or inserted)", err=True)
    else:
        click.echo(f"first event that does not extend the kept checkpoints: #{ext.first_bad} "
                   f"(the log still extends the checkpoint of size {ext.extended_up_to}; the "
                   f"change lies in events #{ext.first_bad}..#{ext.bad_until}, which a hash "
                   f"chain cannot narrow further)", err=True)
    return True


@audit_cli.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign and store a checkpoint of the audit log (size and head), published at
    /.well-known/audit-checkpoint; makes the audit key on first use (or imports this server's
    legacy AUDIT_KEY_DIR). Run it on a schedule, on any server."""
    store = AuditKeyStore.for_app(current_app)
    try:
        signer, done = store.first_use(default_origin(current_app))
    except AuditKeyError as exc:
        raise click.ClickException(str(exc)) from None
    if done:
        click.echo(f"{done}; its verifier key (keep it outside the registry):\n"
                   f"{signer.verifier}", err=True)
    with _session() as session:
        try:
            row, new = checkpoints.make_checkpoint(session, signer)
            session.commit()
        except checkpoints.CheckpointRefused as exc:
            raise click.ClickException(f"checkpoint refused: {exc}") from None
        except IntegrityError:
            raise click.ClickException("another run signed a checkpoint of this size at the "
                                       "same moment; run again") from None
    if not new:
        click.echo(f"no new events since the checkpoint of size {row.size}", err=True)
    click.echo(row.note, nl=False)


@audit_cli.group("key", invoke_without_command=True)
@click.pass_context
@with_appcontext
def audit_key(ctx: click.Context) -> None:
    """Print the audit verifier key (name+hash+key) that offices keep to check checkpoints;
    `audit key import-dir` and `audit key create` make it."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        verifier = AuditKeyStore.for_app(current_app).verifier()
    except AuditKeyError as exc:
        raise click.ClickException(str(exc)) from None
    if verifier is None:
        raise click.ClickException("no audit key yet: run `flask --app registry audit "
                                   "checkpoint`")
    click.echo(str(verifier))


@audit_key.command("import-dir")
@click.argument("directory", required=False,
                type=click.Path(file_okay=False, path_type=Path))
def audit_key_import_dir(directory: Path | None) -> None:
    """Move the audit key kept the old way (AUDIT_KEY_DIR, default KEY_DIR/audit) into the
    database, name and key unchanged (idempotent). The PEM passphrase is KEY_PASSPHRASE."""
    store = AuditKeyStore.for_app(current_app)
    folder = store.legacy if directory is None else AuditKeyFolder(
        directory, current_app.config.get("KEY_PASSPHRASE"))
    try:
        verifier, imported = store.import_dir(folder)
    except AuditKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"imported the audit key from {folder.directory}" if imported
               else "the audit key is in the database already")
    click.echo(str(verifier))


@audit_key.command("create")
def audit_key_create() -> None:
    """Make the audit key (AUDIT_ORIGIN names it); refused when the registry has one. Only for
    a registry whose key is lost: offices must then be given the new verifier key."""
    try:
        signer = AuditKeyStore.for_app(current_app).create(default_origin(current_app))
    except AuditKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"made the audit key; its verifier key (keep it outside the registry):\n"
               f"{signer.verifier}")


@click.command("demo")
@with_appcontext
@click.option("--force", is_flag=True, help="Add demo data even if the database has users.")
@click.option("--labels", is_flag=True,
              help="Load nothing; print the demo's label URIs, one per verdict.")
def demo(force: bool, labels: bool) -> None:
    """Fill the registry with realistic demo data (refused in production)."""
    from registry.demo import DemoRefused, label_uris, load_demo
    from registry.files.web import file_store
    from registry.signing.keys import keystore

    if current_app.config.get("PRODUCTION"):
        raise click.ClickException("refusing to load demo data into a production configuration")
    host, scheme = current_app.config["PUBLIC_HOST"], current_app.config["PUBLIC_SCHEME"]
    with _session() as session:
        try:
            if labels:
                for verdict, uri in label_uris(session, keystore().kek(), host=host,
                                               scheme=scheme).items():
                    click.echo(f"{verdict:<12} {uri}")
                return
            summary = load_demo(session, force=force, store=file_store(),
                                hashing=password_hashing(), kek=keystore().kek(), host=host,
                                scheme=scheme)
        except DemoRefused as exc:
            click.echo(str(exc))
            return
        session.commit()
    # The demo makes the signing key when there was none: this process reads the keys again.
    keystore().invalidate()
    click.echo(summary)


@figures_cli.command("rebuild")
def figures_rebuild() -> None:
    """Rebuild the figures' summary cells from the batches and decisions, in one transaction
    (after a repair of the base tables, or to check them: the dashboard is unchanged)."""
    from registry.figures import summary

    started = time.perf_counter()
    with _session() as session:
        count = summary.rebuild(session)
        audit.record(session, actor=None, action=EventTag.Operations.FIGURES_REBUILD,
                     object_type=ObjectType.REGISTRY, after={"cells": count})
        session.commit()
    click.echo(f"{count} cells rebuilt in {time.perf_counter() - started:.1f} s")


@facts_cli.command("refresh")
@click.option("--check", is_flag=True, help="Only count the batches whose facts are stale.")
def facts_refresh(check: bool) -> None:
    """Recompute every batch's verification facts from its decisions, documents, shipments
    and plots, in one transaction: after a repair of those tables behind the services' back,
    or after a rolling upgrade to 0033 (a server still on the release before it wrote
    decisions without them). ``--check`` changes nothing and exits 1 if any are stale."""
    from registry.verify import facts

    started = time.perf_counter()
    with _session() as session:
        stale = facts.stale(session.connection())
        if check:
            click.echo(f"{len(stale)} batches with stale verification facts"
                       + (f": {', '.join(map(str, stale[:20]))}" if stale else ""))
            raise SystemExit(1 if stale else 0)
        facts.refresh_all(session.connection())
        audit.record(session, actor=None, action=EventTag.Operations.FACTS_REFRESH,
                     object_type=ObjectType.REGISTRY, after={"stale": len(stale)})
        session.commit()
    click.echo(f"verification facts refreshed ({len(stale)} were stale) in "
               f"{time.perf_counter() - started:.1f} s")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(figures_cli)
    app.cli.add_command(facts_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo)
    from registry.backup.cli import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from registry.signing.cli import verify_label_command

    app.cli.add_command(verify_label_command)
