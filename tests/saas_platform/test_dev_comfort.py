"""Development comfort: emails logged at INFO by the local backend; the favicon is linked."""

import logging

from django.core.mail import EmailMessage

from saas_platform.mail import LoggingConsoleEmailBackend
from tests.factories import client_for


def test_the_local_email_backend_logs_each_message_at_info(caplog):
    message = EmailMessage("Your booking", "See you on Monday.", to=["cara@example.com"])
    with caplog.at_level(logging.INFO, logger="creneau.email"):
        assert LoggingConsoleEmailBackend().send_messages([message]) == 1
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert "Your booking" in record.getMessage() and "cara@example.com" in record.getMessage()
    assert "See you on Monday." in record.getMessage()


def test_pages_link_the_favicon(db):
    html = client_for().get("/signup/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in html
