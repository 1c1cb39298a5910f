"""A second app server on the same database: its own instance folder and UPLOAD_DIR, and
the first one's file store settings unless told otherwise."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image

from conftest import Client
from registry import create_app

STORE_KEYS = ("FILE_STORE", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_PREFIX")


@contextmanager
def other_server(app: Flask, folder: Path, **overrides: Any) -> Iterator[Flask]:
    config = {
        "DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"], "RATELIMIT_STORAGE_URI": "memory://",
        "INSTANCE_PATH": str(folder / "instance"), "UPLOAD_DIR": str(folder / "uploads"),
        "KEY_DIR": str(folder / "keys"),
        **{key: app.config[key] for key in STORE_KEYS if app.config.get(key) is not None},
        **overrides,
    }
    other = create_app(config)
    try:
        yield other
    finally:
        other.extensions["engine"].dispose()


def png(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def colour_of(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB").getpixel((10, 10))  # type: ignore[return-value]


def upload_photo(client: Client, product_id: int, data: bytes) -> Any:
    return client.post(f"/products/{product_id}/photo", {"photo": (io.BytesIO(data), "p.png")},
                       content_type="multipart/form-data")


def upload_document(client: Client, batch_id: int, data: bytes, *, public: bool = True,
                    path: str | None = None) -> Any:
    form: dict[str, Any] = {"kind": "phytosanitary", "file": (io.BytesIO(data), "phyto.pdf")}
    if public:
        form["is_public"] = "y"
    return client.post(path or f"/batches/{batch_id}/documents", form,
                       content_type="multipart/form-data",
                       token_from=f"/batches/{batch_id}")
