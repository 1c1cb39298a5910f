"""Configuration from the environment.

Production (``REGISTRY_ENV=production``) refuses to start with anything that would let two
servers give different answers or print a wrong address into labels for good (see
``production_problems``); development creates a secret key in the instance folder and runs on
SQLite so a newcomer needs no setup.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import argon2
import limits

from registry.gs1.digital_link import Gs1Error, check_host

N = TypeVar("N", int, float)

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "development"}


class ConfigError(RuntimeError):
    pass


# Sign-up's and forgot-password's floor (ACCOUNT_ANSWER_SECONDS): twice the ~0.23 s that
# sign-up took in CI at the production Argon2 cost.
DEFAULT_ACCOUNT_ANSWER_SECONDS = 0.5


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true or false), not {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, kind: Callable[[str], N]
            ) -> N | float:
    # A default is returned as written (2, not 2.0, for a float setting).
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        word = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {word}, not {raw!r}") from None


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
    from registry.catalog.rules import Category, DocumentKind

    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"REQUIRED_EVIDENCE is not JSON: {exc}") from None
    if not isinstance(value, dict) or not all(
        category in set(Category) and isinstance(kinds, list)
        and all(kind in set(DocumentKind) for kind in kinds)
        for category, kinds in value.items()
    ):
        raise ConfigError("REQUIRED_EVIDENCE maps categories " + ", ".join(Category)
                          + " to lists of document kinds " + ", ".join(DocumentKind))
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
        # During a replacement of the KEK only: the other of the two keys, whose secrets this
        # server opens but never seals under (README "Replacing the KEK on several
        # servers").
        "KEY_ENCRYPTION_KEY_FALLBACK": env.get("KEY_ENCRYPTION_KEY_FALLBACK"),
        "KEY_ENCRYPTION_KEY_FALLBACK_FILE": env.get("KEY_ENCRYPTION_KEY_FALLBACK_FILE"),
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
        # The task queue (Huey) that renders label jobs: redis://host:6379/1 in production;
        # unset, a SQLite file in the instance folder (``make run`` starts its worker). Tests
        # set "immediate": tasks run in the caller, after its commit.
        "QUEUE_URL": env.get("QUEUE_URL") or None,
        "QUEUE_WORKERS": _number(env, "QUEUE_WORKERS", 2, int),
        # Finished label files are deleted after this and rendered again on demand.
        "LABEL_FILE_TTL_DAYS": _number(env, "LABEL_FILE_TTL_DAYS", 7, float),
        # Finished XLSX exports of the figures are deleted after this (asked for again then).
        "EXPORT_FILE_TTL_DAYS": _number(env, "EXPORT_FILE_TTL_DAYS", 2, float),
        # A render whose worker has not reported for this long is handed to another worker.
        "LABEL_RENDER_LEASE_SECONDS": _number(env, "LABEL_RENDER_LEASE_SECONDS", 60, float),
        # The audit checkpoint key (default KEY_DIR/audit) and its name, the checkpoints'
        # origin (default PUBLIC_HOST/audit-log), fixed when the key is made.
        "AUDIT_KEY_DIR": env.get("AUDIT_KEY_DIR"),
        "AUDIT_ORIGIN": env.get("AUDIT_ORIGIN"),
        "PUBLIC_HOST": env.get("PUBLIC_HOST", "127.0.0.1:5000"),
        "PUBLIC_SCHEME": env.get("PUBLIC_SCHEME", "https" if production else "http"),
        # A request body larger than this gets the 413 page before any view runs.
        "MAX_CONTENT_LENGTH": _number(env, "MAX_CONTENT_LENGTH", 12 * 1024 * 1024, int),
        "MAX_UPLOAD_BYTES": _number(env, "MAX_UPLOAD_BYTES", 10 * 1024 * 1024, int),
        "MAX_IMAGE_PIXELS": _number(env, "MAX_IMAGE_PIXELS", 40_000_000, int),
        "PROXY_HOPS": _number(env, "PROXY_HOPS", 0, int),
        # wsgi.py: a serving worker freezes its long-lived objects after this many requests
        # (registry/ops/memory.py); 0 freezes only what create_app built.
        "GC_FREEZE_AFTER_REQUESTS": _number(env, "GC_FREEZE_AFTER_REQUESTS", 1000, int),
        # Outgoing mail (registry/mail): "outbox" writes each mail as an .eml file into
        # MAIL_OUTBOX_DIR (the embedded default: no mail server needed); "smtp" sends through
        # MAIL_SERVER, with STARTTLS unless MAIL_USE_TLS=0 (MAIL_USE_SSL=1: TLS from the start).
        "MAIL_BACKEND": (env.get("MAIL_BACKEND") or "outbox").strip().lower(),
        "MAIL_OUTBOX_DIR": env.get("MAIL_OUTBOX_DIR") or str(instance_path / "outbox"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or "localhost",
        "MAIL_PORT": _number(env, "MAIL_PORT", 587, int),
        "MAIL_USE_TLS": _flag(env, "MAIL_USE_TLS", True),
        "MAIL_USE_SSL": _flag(env, "MAIL_USE_SSL", False),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER")
        or "Made in Bali–NTB–NTT <registry@localhost>",
        "MAIL_TIMEOUT": _number(env, "MAIL_TIMEOUT", 10, float),
        "COUNTRY_HEADER": env.get("COUNTRY_HEADER"),
        "COPY_DISTINCT_CLIENTS": _number(env, "COPY_DISTINCT_CLIENTS", 6, int),
        "COPY_SCANS_IN_WINDOW": _number(env, "COPY_SCANS_IN_WINDOW", 20, int),
        "COPY_WINDOW_MINUTES": _number(env, "COPY_WINDOW_MINUTES", 60, int),
        # How far a batch's labels (labels × net content) may claim beyond its certified
        # quantity before a trade office's allowance is needed (issue 11 §4).
        "LABEL_QUANTITY_TOLERANCE_PERCENT": _number(env, "LABEL_QUANTITY_TOLERANCE_PERCENT", 2,
                                                    float),
        # A reader, for copy signals and scan budgets: the network address behind PROXY_HOPS,
        # cut to this prefix (one household or phone holds a whole IPv6 /64).
        "CLIENT_PREFIX_V4": _number(env, "CLIENT_PREFIX_V4", 24, int),
        "CLIENT_PREFIX_V6": _number(env, "CLIENT_PREFIX_V6", 64, int),
        # Scan rows one reader may cost per hour and worker: in all, and of one label.
        "SCAN_ROWS_PER_CLIENT": _number(env, "SCAN_ROWS_PER_CLIENT", 100, int),
        "SCAN_ROWS_PER_SERIAL": _number(env, "SCAN_ROWS_PER_SERIAL", 3, int),
        "REQUIRED_EVIDENCE": _required_evidence(env.get("REQUIRED_EVIDENCE")),
        # Operations (issue 13 §3): who may read /metrics (CIDRs, default loopback only, or
        # the bearer token), the log format, and the optional error tracker.
        "METRICS_ALLOW": env.get("METRICS_ALLOW"),
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "LOG_FORMAT": env.get("LOG_FORMAT") or ("json" if production else "text"),
        "SENTRY_DSN": env.get("SENTRY_DSN") or None,
        "SENTRY_ENVIRONMENT": env.get("SENTRY_ENVIRONMENT") or mode,
        "REPORT_RATE_LIMIT": env.get("REPORT_RATE_LIMIT", "5 per hour"),
        # Failed sign-ins (issue 16 §3): per account, from any address, and per address with
        # a ceiling a trade office behind one NAT does not reach by normal use.
        "LOGIN_ACCOUNT_LIMIT": env.get("LOGIN_ACCOUNT_LIMIT", "10 per 5 minutes"),
        "LOGIN_ADDRESS_LIMIT": env.get("LOGIN_ADDRESS_LIMIT", "100 per 5 minutes"),
        "PASSWORD_RESET_RATE_LIMIT": env.get("PASSWORD_RESET_RATE_LIMIT", "10 per hour"),
        "SIGNUP_RATE_LIMIT": env.get("SIGNUP_RATE_LIMIT", "5 per hour"),
        # Sign-up and forgot-password answer no sooner than this, whether or not the address
        # has an account (registry/web/timing.py): above the Argon2 hash and a few writes.
        "ACCOUNT_ANSWER_SECONDS": _number(env, "ACCOUNT_ANSWER_SECONDS",
                                          DEFAULT_ACCOUNT_ANSWER_SECONDS, float),
        # The Argon2id cost of new password hashes: argon2-cffi's defaults (RFC 9106's
        # low-memory choice). Set from code only, no environment variable: the tests lower it.
        "PASSWORD_HASH_TIME_COST": argon2.DEFAULT_TIME_COST,
        "PASSWORD_HASH_MEMORY_KIB": argon2.DEFAULT_MEMORY_COST,
        "PASSWORD_HASH_PARALLELISM": argon2.DEFAULT_PARALLELISM,
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
    for name in ("LOGIN_ACCOUNT_LIMIT", "LOGIN_ADDRESS_LIMIT", "PASSWORD_RESET_RATE_LIMIT",
                 "SIGNUP_RATE_LIMIT"):
        try:
            limits.parse(str(cfg[name]))
        except ValueError:
            raise ConfigError(f"{name} is not a rate limit such as '10 per 5 minutes'") from None
    if cfg["PROXY_HOPS"] < 0:
        raise ConfigError("PROXY_HOPS must be 0 (directly exposed) or the number of proxies")
    if cfg["LABEL_RENDER_LEASE_SECONDS"] < 2 or cfg["LABEL_FILE_TTL_DAYS"] <= 0:
        raise ConfigError("LABEL_RENDER_LEASE_SECONDS must be at least 2 and "
                          "LABEL_FILE_TTL_DAYS more than 0")
    if cfg["EXPORT_FILE_TTL_DAYS"] <= 0:
        raise ConfigError("EXPORT_FILE_TTL_DAYS must be more than 0")
    if cfg["MAIL_BACKEND"] not in ("outbox", "smtp"):
        raise ConfigError(f"MAIL_BACKEND must be outbox or smtp, not {cfg['MAIL_BACKEND']!r}")
    if cfg["MAIL_USE_TLS"] and cfg["MAIL_USE_SSL"]:
        raise ConfigError("MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL (TLS from the start) "
                          "exclude each other: set one to 0")
    if cfg["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be text or json, not {cfg['LOG_FORMAT']!r}")
    if cfg["METRICS_TOKEN"] is not None and len(cfg["METRICS_TOKEN"]) < 24:
        raise ConfigError("METRICS_TOKEN must be a random value of at least 24 characters "
                          "(or unset: /metrics then answers METRICS_ALLOW networks only)")
    secret = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    cfg["SECRET_KEY"] = secret
    if production and not cfg["TESTING"]:
        # TESTING can only be set from code: tests run production behaviour on SQLite.
        explicit = {name for name, value in env.items() if value.strip()} | set(overrides)
        problems = production_problems(cfg, explicit)
        if problems:
            raise ConfigError("Refusing to start in production:\n- " + "\n- ".join(problems))
    elif production:
        problems = _secret_problems(secret)
        if problems:
            raise ConfigError(problems[0])
    elif not secret:
        cfg["SECRET_KEY"] = _instance_secret(instance_path)
    return cfg


# --- production refusals ----------------------------------------------------------------------
# Pure checks of the loaded configuration: each problem names the variable and what is wanted,
# never a value that may hold a password.

# Names that never resolve for a buyer's phone (RFC 6761, RFC 8375, common intranet suffixes).
PRIVATE_SUFFIXES = ("localhost", "local", "localdomain", "internal", "lan", "home.arpa",
                    "test", "invalid")


def production_problems(cfg: Mapping[str, Any], explicit: Collection[str]) -> list[str]:
    """Everything wrong with ``cfg`` for a production server; ``explicit`` are the variable
    names set in the environment (or by the caller), as a default can be the wrong answer."""
    problems = _secret_problems(cfg.get("SECRET_KEY"))
    scheme = urlsplit(cfg.get("DATABASE_URL") or "").scheme.split("+")[0]
    if scheme not in ("postgresql", "postgres"):
        problems.append("DATABASE_URL must be a PostgreSQL URL (postgresql://user@host/name): "
                        f"every server shares one database, and {scheme or 'this'} cannot")
    redis_url = cfg.get("REDIS_URL") or ""
    if urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        problems.append("REDIS_URL must name the shared Redis (redis://host:6379/0): without "
                        "it every process counts login and API limits on its own")
    problems += public_host_problems(cfg.get("PUBLIC_HOST"), "PUBLIC_HOST" in explicit)
    if urlsplit(cfg.get("QUEUE_URL") or "").scheme not in ("redis", "rediss", "unix"):
        problems.append("QUEUE_URL must name the Redis of the task queue "
                        "(redis://host:6379/1): a SQLite queue file is not seen by the "
                        "workers of the other servers")
    if not (cfg.get("KEY_ENCRYPTION_KEY") or cfg.get("KEY_ENCRYPTION_KEY_FILE")):
        problems.append("KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE must hold the "
                        "key-encryption key (base64 of 32 random bytes) that protects the "
                        "signing keys in the database")
    if cfg.get("FILE_STORE") != "s3":
        problems.append("FILE_STORE must be s3 in production: a local UPLOAD_DIR is not seen "
                        "by the other servers")
    elif not cfg.get("S3_BUCKET"):
        problems.append("S3_BUCKET must name the bucket of the object store (FILE_STORE=s3)")
    if cfg.get("MAIL_BACKEND") != "smtp":
        problems.append("MAIL_BACKEND must be smtp in production (with MAIL_SERVER and "
                        "MAIL_DEFAULT_SENDER): the outbox folder is read by nobody, and "
                        "password resets and notifications would never arrive")
    elif "MAIL_DEFAULT_SENDER" not in explicit:
        problems.append("MAIL_DEFAULT_SENDER must be set to the address mail comes from "
                        "(Name <registry@your-domain>), one the mail server may send as")
    if "PROXY_HOPS" not in explicit:
        problems.append("PROXY_HOPS must be set: the number of reverse proxies in front of the "
                        "app, or 0 if it is directly exposed; a wrong value makes one client "
                        "look like every user to the login limits")
    return problems


def _secret_problems(secret: str | None) -> list[str]:
    if not secret or secret.lower() in WEAK_SECRETS or len(secret) < 32:
        return ["SECRET_KEY must be set to a random value of at least 32 characters in "
                "production"]
    return []


def public_host_problems(host: str | None, explicit: bool) -> list[str]:
    """PUBLIC_HOST is printed into every QR code, for good: it must be set on purpose and be a
    name or address every buyer's phone can reach."""
    if not explicit or not host:
        return ["PUBLIC_HOST must be set to the public host[:port] printed into every QR code "
                "(e.g. cek.example.id)"]
    try:
        check_host(host)
    except Gs1Error as exc:
        return [f"PUBLIC_HOST: {exc}"]
    name = host.rsplit(":", 1)[0]
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        private = any(name == s or name.endswith("." + s) for s in PRIVATE_SUFFIXES)
        if private or "." not in name:
            return [f"PUBLIC_HOST {host!r} is not a public DNS name; every label would carry "
                    "an address buyers cannot reach"]
        return []
    if not address.is_global:
        return [f"PUBLIC_HOST {host!r} is a loopback, private or unspecified address; every "
                "label would carry an address buyers cannot reach"]
    return []
