"""``flask --app registry verify-label URI [--keys FILE]``: the offline verifier's command.

Exit codes: 0 valid, 1 invalid (malformed, unsigned, tampered, wrong signature), 2 unknown
key, 3 revoked key (a label in a range the registry signed before the key's revocation is
valid, with a note). Without ``--keys`` it reads this registry's published keys from its
database, as ``/.well-known/registry-keys.json`` shows them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask.cli import with_appcontext

from registry.verify.offline import verify_label
from registry.verify.resolver import label_uri_of


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
        from registry.keys import KeyStoreError, keystore

        try:
            document = {"keys": keystore().public_keys()}
        except KeyStoreError as exc:
            raise click.ClickException(str(exc)) from None
    # The page's address (what a phone shows after the resolver's redirect) names the label.
    result = verify_label(label_uri_of(uri.strip()), document)
    click.echo(result.describe())
    sys.exit(result.exit_code)
