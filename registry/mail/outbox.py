"""The embedded mail backend: each mail as one ``.eml`` file in ``MAIL_OUTBOX_DIR`` (default
``instance/outbox``), so ``make run`` needs no mail server and shows what was sent; any mail
program opens the files."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import current_app
from flask_mailman.backends.base import BaseEmailBackend
from flask_mailman.message import EmailMessage


class EmailBackend(BaseEmailBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.directory = Path(current_app.config["MAIL_OUTBOX_DIR"])

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
            name = f"{stamp}-{secrets.token_hex(4)}.eml"
            partial = self.directory / f".{name}.part"
            partial.write_bytes(message.message().as_bytes())
            partial.replace(self.directory / name)  # whole files only
        return len(email_messages)
