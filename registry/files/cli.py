"""``flask --app registry files import [DIR]``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

from registry.files import FileStoreError
from registry.files.importer import import_folder
from registry.files.web import file_store

files_cli = AppGroup("files", help="Uploaded files (evidence, product photos).")


@files_cli.command("import")
@click.argument("directory", required=False,
                type=click.Path(file_okay=False, dir_okay=True, path_type=Path))
def files_import(directory: Path | None) -> None:
    """Copy the upload folder DIRECTORY (default UPLOAD_DIR) into the configured file store.

    Only files the database refers to are copied, each checked against its recorded SHA-256
    (a mismatch is reported and not copied); digests missing from older rows are recorded.
    Running it again copies nothing new. Exits 1 if any file was damaged or missing."""
    directory = directory or Path(current_app.config["UPLOAD_DIR"])
    if not directory.is_dir():
        raise click.ClickException(f"{directory} is not a folder")
    store = file_store()
    click.echo(f"importing {directory} into {store.describe()}")
    with Session(current_app.extensions["engine"], expire_on_commit=False) as session:
        try:
            report = import_folder(session, store, directory)
        except FileStoreError as exc:
            raise click.ClickException(
                f"the file store failed on {exc.name}: {exc.detail}; nothing recorded, "
                "run the command again once the store answers") from None
        session.commit()
    click.echo(f"copied {len(report.copied)}, already in the store {len(report.present)}, "
               f"digests recorded {len(report.recorded)}, problems {len(report.problems)}, "
               f"not referenced {len(report.unreferenced)}")
    for name, rows, problem in report.problems:
        click.echo(f"problem: {name} ({', '.join(map(str, rows))}): {problem}", err=True)
    if report.unreferenced:
        click.echo("files no row refers to (not copied):")
        for name in report.unreferenced:
            click.echo(f"  {name}")
    if not report.ok:
        raise SystemExit(1)
