"""Development e-mail: each message written to the log at INFO (logger `creneau.email`), so
`make run`'s output shows emails beside the other events and real warnings stand out."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger("creneau.email")


class LoggingConsoleEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            logger.info(
                "email.console %s → %s\n%s",
                message.subject,
                ", ".join(message.to),
                message.body,
                extra={"subject": message.subject, "to": list(message.to)},
            )
        return len(email_messages)
