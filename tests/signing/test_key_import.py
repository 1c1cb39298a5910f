"""``keys import-dir``: a registry's legacy KEY_DIR (keys.json and key-*.pem, plain or
PEM-encrypted with KEY_PASSPHRASE) moves into the database in one command; labels printed
before keep verifying after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from keys_support import cli, download, order, printer, verdict
from sqlmodel import Session, select

from conftest import World
from registry.audit import services as audit
from registry.catalog.certification import Action
from registry.gs1.digital_link import parse_uri
from registry.printing import services as printing
from registry.printing.models import PrintJob
from registry.signing.keydir import KeyDir
from registry.signing.models import LabelSignature, SigningKey


def _old_labels(app: Flask, world: World, job: PrintJob, legacy: KeyDir, kid: str,
                db: Session) -> list[str]:
    """What the registry printed before the migration: the job's labels signed from the
    folder, as the old download did (and its audit event)."""
    source = printing.label_source(world.batch_a, world.product_a, net_quantity="500 g",
                                   host=app.config["PUBLIC_HOST"],
                                   scheme=app.config["PUBLIC_SCHEME"])
    signer = legacy.active_signer() if legacy.active_signer().kid == kid else None
    assert signer is not None
    audit.record(db, actor=world.printer, action="printjob.download", object_type="print_job",
                 object_id=job.id, after={"format": "pdf", "batch_id": job.batch_id,
                                          "serials": [job.serial_first, job.serial_last]})
    db.commit()
    return [label.qr_uri for label in source.labels(signer, job.serial_first, job.serial_last)]


@pytest.mark.parametrize("passphrase", [None, "old folder passphrase"])
def test_a_legacy_key_folder_moves_into_the_database(
        app: Flask, world: World, db: Session, tmp_path: Path, passphrase: str | None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    folder = tmp_path / "legacy-keys"
    legacy = KeyDir(folder, passphrase)
    first = legacy.create_key()
    labels_first = _old_labels(app, world, order(world, db), legacy, first, db)
    leaked = legacy.rotate()
    labels_leaked = _old_labels(app, world, order(world, db), legacy, leaked, db)
    current = legacy.rotate()
    legacy.revoke(leaked)
    job = order(world, db)
    labels_current = _old_labels(app, world, job, legacy, current, db)

    args = ["keys", "import-dir", str(folder)]
    if passphrase:
        code, output = cli(app, *args)  # KEY_PASSPHRASE is not set here: a clear refusal
        assert code == 1 and "cannot unlock key" in output and "Traceback" not in output
        assert db.exec(select(SigningKey)).all() == []
        monkeypatch.setenv("LEGACY_KEY_PASSPHRASE", passphrase)
        args += ["--passphrase-env", "LEGACY_KEY_PASSPHRASE"]
    code, output = cli(app, *args)
    assert code == 0, output
    assert "3 keys imported" in output
    rows = {r.kid: r for r in db.exec(select(SigningKey)).all()}
    assert set(rows) == {first, leaked, current}
    assert rows[leaked].private_key is None and rows[leaked].revoked_at is not None
    assert rows[first].retired_at is not None and rows[first].private_key is not None
    assert rows[current].retired_at is None and rows[current].revoked_at is None
    listing = cli(app, "keys", "list")[1]
    assert f"{first}  retired" in listing and f"{current}  active" in listing
    assert f"{leaked}  revoked" in listing

    # Old labels read as they did before the migration.
    for uri in labels_first + labels_current:
        assert verdict(app, uri)["verdict"] == "genuine"
    for uri in labels_leaked:
        assert verdict(app, uri)["signals"] == ["revoked_key"]
    # Downloads now sign with the imported active key, from the database.
    assert {parse_uri(u).key_id for u in download(printer(app), job)} == {current}

    # Running it again imports nothing.
    code, output = cli(app, *args)
    assert code == 0 and "0 keys imported" in output and f"already present {current}" in output
    events = db.exec(select(audit.AuditEvent).where(audit.AuditEvent.action == "key.import"))
    assert sorted(e.object_id or "" for e in events) == sorted([first, leaked, current])

    # The audit log said which key signed which job before: a later revocation with an
    # effective time keeps those labels valid.
    links = {(s.job_id, s.kid) for s in db.exec(select(LabelSignature)).all()}
    assert (job.id, current) in links
    code, output = cli(app, "keys", "revoke", current, "--with-successor")
    assert code == 0, output
    for uri in labels_current:
        assert verdict(app, uri)["verdict"] == "genuine"


def test_a_folder_with_another_active_key_is_refused(app: Flask, tmp_path: Path,
                                                     db: Session) -> None:
    ours = cli(app, "keys", "ensure")[1].split()[-1]
    folder = tmp_path / "elsewhere"
    theirs = KeyDir(folder).create_key()
    code, output = cli(app, "keys", "import-dir", str(folder))
    assert code == 1
    assert f"already has the active key {ours}" in output and theirs in output
    assert [r.kid for r in db.exec(select(SigningKey)).all()] == [ours]
    code, output = cli(app, "keys", "import-dir", str(tmp_path / "nothing-here"))
    assert code != 0 and "no keys.json" in output
