"""The key commands: ``flask --app registry keys ensure|create|rotate|revoke|list|import-dir``,
``keys rekey --new-kek-file PATH`` (every sealed secret under a new key-encryption key; without
the option, what is still under ``KEY_ENCRYPTION_KEY_FALLBACK`` under the configured one), and
``verify-label``, the offline verifier's.

``verify-label URI [--keys FILE]`` exit codes: 0 valid, 1 invalid (malformed, unsigned,
tampered, wrong signature), 2 unknown key, 3 revoked key (a label in a range the registry
signed before the key's revocation is valid, with a note). Without ``--keys`` it reads this
registry's published keys from its database, as ``/.well-known/registry-keys.json`` shows
them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from registry.signing.offline import verify_label
from registry.signing.signer import KeyStoreError
from registry.signing.store import KeyStore
from registry.verify.resolver import label_uri_of

T = TypeVar("T")

keys_cli = AppGroup("keys", help="Label signing keys (Ed25519), kept in the database.")


def _store() -> KeyStore:
    from registry.signing.keys import store_for

    return store_for(current_app)


def _run(work: Callable[[], T]) -> T:
    try:
        return work()
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None


@keys_cli.command("ensure")
def keys_ensure() -> None:
    """Create a first key if there is none (idempotent; safe on several servers at once)."""
    kid, made = _run(_store().ensure)
    click.echo(f"created key {kid}" if made else f"active key {kid}")


@keys_cli.command("create")
def keys_create() -> None:
    """Create the first signing key."""
    click.echo(f"created key {_run(_store().create)}")


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """New active key; the old one retires (its labels stay valid)."""
    click.echo(f"active key now {_run(_store().rotate)}")


def _effective(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time, e.g. "
                                 f"2026-11-30T08:00:00+08:00", param_hint="--from") from None
    if value.tzinfo is None:
        raise click.BadParameter("give the time with its offset (…+08:00 for WITA, or Z for "
                                 "UTC): a bare time is ambiguous", param_hint="--from")
    return value


# A key id is base64url and may start with "-" (one in 32): without this, "keys revoke
# -Yq3…" was taken for an unknown option -Y.
@keys_cli.command("revoke", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@click.option("--from", "effective", metavar="ISO-TIME", default=None,
              help="When the key stopped being trustworthy (default: now). Labels the "
                   "registry signed with it before then keep verifying; others do not.")
@click.option("--reason", default=None, help="Why (kept with the key and in the audit log).")
@click.option("--with-successor", is_flag=True,
              help="Revoking the active key: make the new active key in the same step.")
def keys_revoke(kid: str, effective: str | None, reason: str | None,
                with_successor: bool) -> None:
    """Mark a compromised key: labels claiming it from the effective time on stop verifying."""
    when = _effective(effective)
    successor = _run(lambda: _store().revoke(kid, effective=when, reason=reason,
                                             with_successor=with_successor))
    click.echo(f"revoked key {kid}")
    if successor:
        click.echo(f"active key now {successor}")


@keys_cli.command("list")
def keys_list() -> None:
    for key in _run(_store().public_keys):
        line = f"{key['kid']}  {key['status']:8}  created {key['created']}"
        if key["revoked_from"]:
            line += f"  revoked from {key['revoked_from']}"
        click.echo(line)


@keys_cli.command("import-dir")
@click.argument("directory", required=False,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--passphrase-env", metavar="VAR", default=None,
              help="The environment variable holding the folder's PEM passphrase "
                   "(default: KEY_PASSPHRASE).")
def keys_import_dir(directory: Path | None, passphrase_env: str | None) -> None:
    """Move a legacy KEY_DIR (keys.json, key-*.pem) into the database (idempotent)."""
    from sqlmodel import Session

    from registry.signing import services

    directory = directory or Path(current_app.config["KEY_DIR"])
    if passphrase_env:
        passphrase = os.environ.get(passphrase_env)
        if passphrase is None:
            raise click.ClickException(f"the environment variable {passphrase_env} is not set")
    else:
        passphrase = current_app.config.get("KEY_PASSPHRASE")
    store = _store()

    def work() -> services.ImportReport:
        with Session(store.engine, expire_on_commit=False) as session:
            report = services.import_dir(session, None, directory, passphrase=passphrase,
                                         kek=store.kek())
            session.commit()
        store.invalidate()
        return report

    report = _run(work)
    for kid in report.imported:
        click.echo(f"imported key {kid}")
    for kid in report.present:
        click.echo(f"already present {kid}")
    click.echo(f"{len(report.imported)} keys imported, {report.signatures} print jobs "
               f"linked to the key that signed them")


@keys_cli.command("rekey")
@click.option("--new-kek-file", "new_kek_file", default=None, metavar="PATH",
              type=click.Path(dir_okay=False, path_type=Path),
              help="A file holding the new key-encryption key (base64 of 32 random bytes); "
                   "never the key itself on the command line. Without it: every secret "
                   "still under KEY_ENCRYPTION_KEY_FALLBACK moves to the configured key.")
def keys_rekey(new_kek_file: Path | None) -> None:
    """Re-seal every sealed secret (label keys, authenticator seeds, the audit key) under a
    new key-encryption key, or under the configured one what is still under its fallback, in
    one transaction with its audit event."""
    from sqlmodel import Session

    from registry.signing import kek as kek_module
    from registry.signing import sealed

    store = _store()
    try:
        new = (kek_module.parse(new_kek_file.read_text("ascii"),
                                f"--new-kek-file ({new_kek_file})")
               if new_kek_file is not None else store.kek())
    except (OSError, UnicodeError) as exc:
        raise click.ClickException(f"--new-kek-file {new_kek_file} cannot be read: "
                                   f"{exc.__class__.__name__}") from None
    except kek_module.KekError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None
    if new_kek_file is None and new.fallback is None:
        raise click.ClickException(
            "give --new-kek-file PATH (the new key-encryption key), or, in the third step of "
            "a replacement across servers, configure KEY_ENCRYPTION_KEY_FALLBACK")

    def work() -> sealed.RekeyReport:
        with Session(store.engine, expire_on_commit=False) as session:
            try:
                report = sealed.rekey(session, None, store.kek(), new)
            except kek_module.KekError as exc:
                session.rollback()
                raise KeyStoreError(f"nothing was changed: {exc}") from None
            session.commit()
        store.invalidate()
        return report

    report = _run(work)
    click.echo(f"re-sealed {report.signing_keys} signing keys, {report.second_factors} "
               f"authenticator seeds and {report.audit_keys} audit key under the "
               f"key-encryption key {report.new} (was {report.old})")
    if new_kek_file is None:
        click.echo(
            "Next: remove KEY_ENCRYPTION_KEY_FALLBACK from every server and restart them one "
            "at a time. Keep the old key offline as long as you keep backups made before now: "
            "they are sealed under it.")
        return
    click.echo(
        "Next: 1. install the new key-encryption key on every server (KEY_ENCRYPTION_KEY_FILE "
        "or KEY_ENCRYPTION_KEY) and restart each one (web and worker); until a server restarts "
        "with it, it cannot sign new labels, open an authenticator or sign a checkpoint "
        "(verification goes on). 2. Check each server's /readyz (\"keys\": \"ok\"). 3. Keep "
        "the new key offline too, and the old one as long as you keep backups made before "
        "now: they are sealed under it. (Several servers, without an outage: README "
        "\"Replacing the KEK on several servers\".)")


@click.command("verify-label")
@click.argument("uri")
@click.option("--keys", "keys_file", type=click.File("r", encoding="utf-8"), default=None,
              help="A published keys document (registry-keys.json); default: this registry's "
                   "public keys.")
@with_appcontext
def verify_label_command(uri: str, keys_file: Any) -> None:
    """Check a label URI's signature with the published keys only, offline."""
    if keys_file is not None:
        try:
            document = json.load(keys_file)
        except ValueError as exc:
            raise click.ClickException(f"keys file is not JSON: {exc}") from None
    else:
        from registry.signing.keys import KeyStoreError, keystore

        try:
            document = {"keys": keystore().public_keys()}
        except KeyStoreError as exc:
            raise click.ClickException(str(exc)) from None
    # The page's address (what a phone shows after the resolver's redirect) names the label.
    result = verify_label(label_uri_of(uri.strip()), document)
    click.echo(result.describe())
    sys.exit(result.exit_code)
