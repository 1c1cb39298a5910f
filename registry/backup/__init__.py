"""Backups: ``flask --app registry backup FILE`` / ``restore FILE`` (services, archive format)."""
