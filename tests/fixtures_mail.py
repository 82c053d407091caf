"""A real SMTP server on 127.0.0.1 (aiosmtpd) on a free port, for the email tests.

Loaded as a pytest plugin from ``tests/conftest.py``. ``smtp_server()`` starts one in a thread
and returns it; ``smtp_server(refuse="451 4.3.0 Try again later")`` answers every message with
that reply instead of accepting it. Every server a test starts is stopped when the test ends.
"""

from __future__ import annotations

import asyncio
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP


class SmtpServer:
    def __init__(self, refuse: str | None = None):
        self.refuse = refuse
        self.messages: list[EmailMessage] = []
        self.attempts: list[float] = []  # monotonic time of every DATA received
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # aiosmtpd handler hook
    async def handle_DATA(self, server, session, envelope):
        self.attempts.append(time.monotonic())
        if self.refuse:
            return self.refuse
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpServer:
        self._thread.start()

        async def serve():
            return await self._loop.create_server(
                lambda: SMTP(self, hostname="smtp.test", loop=self._loop),
                host="127.0.0.1", port=0,
            )

        self._server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._loop.is_closed():
            return

        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def smtp_server():
    servers: list[SmtpServer] = []

    def start(refuse: str | None = None) -> SmtpServer:
        server = SmtpServer(refuse).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def mail_through(settings):
    """``mail_through(server)``: this process sends mail to ``server`` over SMTP."""

    def configure(server: SmtpServer) -> None:
        options = {"host": "127.0.0.1", "port": server.port, "username": "", "password": "",
                   "use_tls": False, "use_ssl": False, "timeout": 10}
        if hasattr(settings, "MAILERS"):  # Django 6.1+
            settings.MAILERS = {"default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options,
            }}
        else:
            settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            settings.EMAIL_HOST, settings.EMAIL_PORT = options["host"], options["port"]
            settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
            settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
            settings.EMAIL_TIMEOUT = options["timeout"]

    return configure
