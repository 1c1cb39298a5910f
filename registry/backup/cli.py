"""``flask --app registry backup FILE`` and ``flask --app registry restore FILE``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.backup.archive import KEK_WARNING
from registry.backup.services import BackupError, restore_backup, take_backup
from registry.files.web import file_store


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Write the database, the stored files and the signing keys (sealed) to the archive
    FILE, with a manifest of checksums. The KEK and SECRET_KEY are NOT included."""
    try:
        summary = take_backup(current_app.extensions["engine"], file_store(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {summary.path}: schema {summary.revision}, "
               f"{sum(summary.rows.values())} rows in {len(summary.rows)} tables, "
               f"{summary.files} files, {summary.size} bytes")
    click.echo(f"IMPORTANT: {KEK_WARNING}", err=True)


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Restore the archive FILE into an EMPTY database (first `db upgrade` it to the
    archive's revision) and an empty file store. Every checksum is verified first; a damaged
    archive or a non-empty target is refused before anything is written."""
    from registry.signing.keys import keystore

    try:
        summary = restore_backup(current_app.extensions["engine"], file_store(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored the backup of {summary.created_at}: schema {summary.revision}, "
               f"{sum(summary.rows.values())} rows, {summary.files} files")
    store = keystore()
    store.invalidate()
    problem = store.check(made_on_demand=not current_app.config.get("PRODUCTION"))
    if problem:
        # The data is restored either way; signing needs the KEK the archive was made under.
        click.echo(f"warning: the signing keys cannot be used: {problem} (is "
                   "KEY_ENCRYPTION_KEY the one the backup was made under?)", err=True)
