"""Configuration from the environment.

Production (``REGISTRY_ENV=production``) refuses to start without a real secret key;
development creates one in the instance folder so a newcomer needs no setup.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "development"}


class ConfigError(RuntimeError):
    pass


def _instance_secret(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting together must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _required_evidence(raw: str | None) -> dict[str, list[str]]:
    """``REQUIRED_EVIDENCE``: JSON mapping a product category to the document kinds a batch
    needs before submission, e.g. ``{"agriculture": ["phytosanitary"]}``. Unset: any one
    document. A typo would silently demand nothing (or the impossible), so refuse to start."""
    if not raw:
        return {}
    from registry.catalog.models import DocumentKind
    from registry.reference import CATEGORIES

    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"REQUIRED_EVIDENCE is not JSON: {exc}") from None
    if not isinstance(value, dict) or not all(
        category in CATEGORIES and isinstance(kinds, list)
        and all(kind in DocumentKind.CHOICES for kind in kinds)
        for category, kinds in value.items()
    ):
        raise ConfigError("REQUIRED_EVIDENCE maps categories " + ", ".join(CATEGORIES)
                          + " to lists of document kinds " + ", ".join(DocumentKind.CHOICES))
    return value


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    overrides = overrides or {}
    mode = overrides.get("ENV", env.get("REGISTRY_ENV", "development"))
    production = mode == "production"
    cfg: dict[str, Any] = {
        "ENV": mode,
        "PRODUCTION": production,
        "TESTING": False,
        "DATABASE_URL": env.get("DATABASE_URL")
        or f"sqlite:///{(instance_path / 'registry.sqlite3').as_posix()}",
        "REDIS_URL": env.get("REDIS_URL"),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(instance_path / "uploads"),
        # Signing keys live in the database (one truth for every server); their private
        # halves are encrypted under the key-encryption key: base64 of 32 random bytes in
        # KEY_ENCRYPTION_KEY, or a file holding it (KEY_ENCRYPTION_KEY_FILE). Development
        # makes instance/key-encryption-key. KEY_DIR and KEY_PASSPHRASE now only name the
        # folder ``keys import-dir`` migrates from (and the audit checkpoint key's folder).
        "KEY_ENCRYPTION_KEY": env.get("KEY_ENCRYPTION_KEY"),
        "KEY_ENCRYPTION_KEY_FILE": env.get("KEY_ENCRYPTION_KEY_FILE"),
        "KEY_DIR": env.get("KEY_DIR") or str(instance_path / "keys"),
        "KEY_PASSPHRASE": env.get("KEY_PASSPHRASE"),
        # Uploaded files: "local" (UPLOAD_DIR, the embedded default) or "s3" (any S3 API:
        # MinIO on the province's premises, AWS, …; credentials from boto3's usual
        # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment).
        "FILE_STORE": env.get("FILE_STORE", "local"),
        "S3_BUCKET": env.get("S3_BUCKET"),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL"),
        "S3_REGION": env.get("S3_REGION", "us-east-1"),
        "S3_PREFIX": env.get("S3_PREFIX", ""),
        # The audit checkpoint key (default KEY_DIR/audit) and its name, the checkpoints'
        # origin (default PUBLIC_HOST/audit-log), fixed when the key is made.
        "AUDIT_KEY_DIR": env.get("AUDIT_KEY_DIR"),
        "AUDIT_ORIGIN": env.get("AUDIT_ORIGIN"),
        "PUBLIC_HOST": env.get("PUBLIC_HOST", "127.0.0.1:5000"),
        "PUBLIC_SCHEME": env.get("PUBLIC_SCHEME", "https" if production else "http"),
        # A request body larger than this gets the 413 page before any view runs.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 12 * 1024 * 1024)),
        "MAX_UPLOAD_BYTES": int(env.get("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)),
        "MAX_IMAGE_PIXELS": int(env.get("MAX_IMAGE_PIXELS", 40_000_000)),
        "PROXY_HOPS": int(env.get("PROXY_HOPS", 0)),
        "COUNTRY_HEADER": env.get("COUNTRY_HEADER"),
        "COPY_DISTINCT_CLIENTS": int(env.get("COPY_DISTINCT_CLIENTS", 6)),
        "COPY_SCANS_IN_WINDOW": int(env.get("COPY_SCANS_IN_WINDOW", 20)),
        "COPY_WINDOW_MINUTES": int(env.get("COPY_WINDOW_MINUTES", 60)),
        # How far a batch's labels (labels × net content) may claim beyond its certified
        # quantity before a trade office's allowance is needed (issue 11 §4).
        "LABEL_QUANTITY_TOLERANCE_PERCENT": float(env.get("LABEL_QUANTITY_TOLERANCE_PERCENT", 2)),
        # A reader, for copy signals and scan budgets: the network address behind PROXY_HOPS,
        # cut to this prefix (one household or phone holds a whole IPv6 /64).
        "CLIENT_PREFIX_V4": int(env.get("CLIENT_PREFIX_V4", 24)),
        "CLIENT_PREFIX_V6": int(env.get("CLIENT_PREFIX_V6", 64)),
        # Scan rows one reader may cost per hour and worker: in all, and of one label.
        "SCAN_ROWS_PER_CLIENT": int(env.get("SCAN_ROWS_PER_CLIENT", 100)),
        "SCAN_ROWS_PER_SERIAL": int(env.get("SCAN_ROWS_PER_SERIAL", 3)),
        "REQUIRED_EVIDENCE": _required_evidence(env.get("REQUIRED_EVIDENCE")),
        "REPORT_RATE_LIMIT": env.get("REPORT_RATE_LIMIT", "5 per hour"),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per 15 minutes"),
        "SIGNUP_RATE_LIMIT": env.get("SIGNUP_RATE_LIMIT", "5 per hour"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Makassar",
        "LANGUAGES": ["en", "id"],
    }
    cfg.update(overrides)
    secret = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    if production:
        if not secret or secret.lower() in WEAK_SECRETS or len(secret) < 32:
            raise ConfigError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
    elif not secret:
        secret = _instance_secret(instance_path)
    cfg["SECRET_KEY"] = secret
    return cfg
