"""An officer activates new sign-ups of the province, nothing else: an account the
administrators disabled stays disabled whatever an officer posts (issue 11, section 8)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from conftest import Client, World
from registry.accounts.models import User, UserStatus
from registry.audit.models import AuditEvent


def _events(db: Session) -> int:
    return db.exec(select(func.count()).select_from(AuditEvent)).one()


def test_officer_cannot_re_enable_an_exporter_the_admin_disabled(
    world: World, db: Session, make_client
) -> None:
    admin: Client = make_client()
    admin.login("admin@test.id")
    assert admin.post(f"/accounts/users/{world.exporter_a.id}/disable").status_code == 302

    officer: Client = make_client()
    officer.login("officer.ntb@test.id")  # exporter A's company is in NTB, the officer's own
    before = _events(db)
    response = officer.post(f"/accounts/users/{world.exporter_a.id}/activate")

    assert response.status_code == 409
    assert "Only new sign-ups waiting for activation" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, world.exporter_a.id).status == UserStatus.DISABLED
    assert _events(db) == before
    exporter: Client = make_client()
    refused = exporter.post("/login", {"email": "a@test.id", "password": "correct-horse-battery-7"},
                            token_from="/login")
    assert "This account is disabled." in refused.get_data(as_text=True)


def test_officer_cannot_touch_an_active_exporter_either(world: World, db: Session,
                                                        client: Client) -> None:
    client.login("officer.ntb@test.id")
    before = _events(db)
    assert client.post(f"/accounts/users/{world.exporter_a.id}/activate").status_code == 409
    assert _events(db) == before


def test_admin_may_still_re_enable_a_disabled_exporter(world: World, db: Session,
                                                       client: Client) -> None:
    client.login("admin@test.id")
    assert client.post(f"/accounts/users/{world.exporter_a.id}/disable").status_code == 302
    assert client.post(f"/accounts/users/{world.exporter_a.id}/activate").status_code == 302
    db.expire_all()
    assert db.get(User, world.exporter_a.id).status == UserStatus.ACTIVE
