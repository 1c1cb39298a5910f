"""The registry's signing keys, bound to the app: ``flask --app registry keys ...``.

Private keys live in ``KEY_DIR`` (outside the database), encrypted when ``KEY_PASSPHRASE`` is
set; only public keys ever leave the server.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from registry.signing import KeyStore, KeyStoreError, Signer

keys_cli = AppGroup("keys", help="Label signing keys (Ed25519).")


def keystore() -> KeyStore:
    return store_for(current_app)


def store_for(app: Flask) -> KeyStore:
    store = app.extensions.get("keystore")
    if store is None:
        store = KeyStore(app.config["KEY_DIR"], app.config.get("KEY_PASSPHRASE"))
        app.extensions["keystore"] = store
    return store


def signer() -> Signer:
    """The active signer; a development registry creates its first key on demand."""
    store = keystore()
    try:
        return store.active_signer()
    except KeyStoreError:
        if current_app.config.get("PRODUCTION"):
            raise
        store.create_key()
        return store.active_signer()


@keys_cli.command("ensure")
def keys_ensure() -> None:
    """Create a first key if there is none (idempotent)."""
    store = keystore()
    try:
        kid = store.active_signer().kid
        click.echo(f"active key {kid}")
    except KeyStoreError:
        click.echo(f"created key {store.create_key()}")


@keys_cli.command("create")
def keys_create() -> None:
    """Create the first signing key."""
    click.echo(f"created key {keystore().create_key()}")


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """New active key; the old one retires (its labels stay valid)."""
    click.echo(f"active key now {keystore().rotate()}")


@keys_cli.command("revoke")
@click.argument("kid")
@click.option("--with-successor", is_flag=True,
              help="Revoking the active key: make the new active key in the same step.")
def keys_revoke(kid: str, with_successor: bool) -> None:
    """Mark a compromised key: labels signed with it stop verifying."""
    try:
        successor = keystore().revoke(kid, with_successor=with_successor)
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked key {kid}")
    if successor:
        click.echo(f"active key now {successor}")


@keys_cli.command("list")
def keys_list() -> None:
    for key in keystore().public_keys():
        click.echo(f"{key['kid']}  {key['status']:8}  created {key['created']}")


def init_app(app: Flask) -> None:
    app.cli.add_command(keys_cli)
