"""A real SMTP server (aiosmtpd) for tests: mail goes over a socket and is parsed as received.

Load the `mail_server` fixture with `pytest_plugins = ["tests.smtp"]` in tests/conftest.py.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Delivery:
    """One message as the server received it: the envelope, the raw bytes, and parsed."""

    sender: str
    recipients: list[str]
    content: bytes
    message: EmailMessage


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.server.refused:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        message = email.message_from_bytes(content, policy=email.policy.default)
        delivery = Delivery(envelope.mail_from, list(envelope.rcpt_tos), content, message)
        with self.server._lock:
            self.server._deliveries.append(delivery)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    """A port nobody listens on now (Controller needs a number; it cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class SMTPServer:
    """aiosmtpd in a thread on 127.0.0.1; collects what it receives. Addresses in `refused`
    are rejected at RCPT (550), to test how the forum reacts to a refusing server."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self.refused: set[str] = set()
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._controller: Controller | None = None

    def start(self) -> None:
        for attempt in range(3):  # another process may grab the free port before we bind it
            port = _free_port()
            controller = Controller(_Handler(self), hostname=self.host, port=port)
            try:
                controller.start()
            except OSError:
                controller.stop(no_assert=True)
                if not controller.loop.is_closed():
                    controller.loop.close()
                if attempt == 2:
                    raise
            else:
                self._controller, self.port = controller, port
                return

    def stop(self) -> None:
        """Stop listening (idempotent, so a test may stop it and the fixture again)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        return [delivery.message for delivery in self.deliveries]

    def wait_for(self, count: int, timeout: float = 5) -> list[EmailMessage]:
        """The first `count` messages, once they have arrived (delivery is asynchronous)."""
        deadline = time.monotonic() + timeout
        while len(messages := self.messages) < count:
            if time.monotonic() > deadline:
                subjects = [str(message["Subject"]) for message in messages]
                raise AssertionError(f"expected {count} message(s) in {timeout}s, got {subjects}")
            time.sleep(0.01)
        return messages[:count]

    def clear(self) -> None:
        with self._lock:
            self._deliveries.clear()


@pytest.fixture
def mail_server(app: Flask) -> Iterator[SMTPServer]:
    """A running SMTP server that the app sends its mail to."""
    server = SMTPServer()
    server.start()
    app.config["FORUM_MAIL_HOST"] = server.host
    app.config["FORUM_MAIL_PORT"] = server.port
    try:
        yield server
    finally:
        server.stop()
