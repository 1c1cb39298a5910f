"""Project commands: ``flask --app registry db upgrade | users create | audit verify | demo``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session, select

from registry import audit, migrate
from registry.accounts import services as accounts
from registry.accounts.models import Organisation, OrgKind, Role
from registry.accounts.rules import password_problem

db_cli = AppGroup("db", help="Database schema.")
users_cli = AppGroup("users", help="User accounts.")
audit_cli = AppGroup("audit", help="The hash-chained audit log.")


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
            audit.record(session, actor=None, action="organisation.create",
                         object_type="organisation", object_id=org.id,
                         after={"name": org_name, "kind": kind, "province_code": province})
        try:
            user = accounts.create_user(session, None, email=email, name=name, role=Role(role),
                                        organisation_id=org.id, password=password)
        except Exception as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"created {user.role} {user.email}")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 and name the first broken link if it was tampered."""
    with _session() as session:
        report = audit.verify_chain(session)
    if report.ok:
        click.echo(f"audit log intact: {report.checked} events")
        return
    click.echo(
        f"audit log BROKEN at event #{report.broken_seq}: {report.problem} "
        f"({report.checked} events verified before it)",
        err=True,
    )
    sys.exit(1)


@click.command("demo")
@with_appcontext
@click.option("--force", is_flag=True, help="Add demo data even if the database has users.")
def demo(force: bool) -> None:
    """Fill the registry with realistic demo data (refused in production)."""
    from registry.demo import DemoRefused, load_demo

    if current_app.config.get("PRODUCTION"):
        raise click.ClickException("refusing to load demo data into a production configuration")
    with _session() as session:
        try:
            summary = load_demo(session, force=force, upload_dir=current_app.config["UPLOAD_DIR"])
        except DemoRefused as exc:
            click.echo(str(exc))
            return
        session.commit()
    click.echo(summary)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo)
    from registry.verify.cli import verify_label_command

    app.cli.add_command(verify_label_command)
