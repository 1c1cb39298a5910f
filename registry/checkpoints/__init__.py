"""Signed checkpoints of the audit log: the note format, the audit key, the services that
make and check them, and their well-known addresses."""
