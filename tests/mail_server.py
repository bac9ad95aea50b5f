"""A real SMTP server in the test process (aiosmtpd) for the email tests: the ``smtp`` fixture runs one the
app sends to, and ``with_addresses`` gives everyone in ``people`` an email address."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from bpmn_audit.models import db


class Inbox:
    """An SMTP handler keeping each message it is given."""

    def __init__(self):
        self.messages = []
        self.controller = None
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def up(self) -> None:
        """Start serving (a stopped aiosmtpd controller does not start again: a new one takes the port)."""
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str, subject: str = "") -> list:
        """The messages to ``address`` (whose subject starts with ``subject``, if given)."""
        return [message for recipients, message in self.messages
                if address in recipients and str(message["Subject"]).startswith(subject)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A running SMTP server the app sends to; ``smtp.down()`` and ``smtp.up()`` stop and restart it."""
    inbox = Inbox()
    port = _free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, BASE_URL="https://audit.example")
    inbox.port = port
    inbox.up()
    yield inbox
    inbox.down()


@pytest.fixture
def with_addresses(people):
    for person in people.values():
        person.email = f"{person.username}@partnership.example"
    db.session.commit()
    return people
