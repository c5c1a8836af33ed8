"""Mail adapters: the mailbox folder (readable UTF-8 .eml files) and SMTP against a tiny
SMTP server on 127.0.0.1 written here (the standard library has no server any more)."""

from __future__ import annotations

import base64
import io
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import pytest

from podpiska.adapters.mail import MailboxMailer, SmtpMailer, list_mailbox, read_message
from podpiska.ports import DeliveryFailed, EmailMessage

SUBJECT = "Подписка заканчивается через 7 дней: оплачена по 29.11.2026"
TEXT = "Здравствуйте!\n\nСумма продления: 43 092,00 ₽.\n"
MESSAGE = EmailMessage(
    to="admin@romashka.example",
    subject=SUBJECT,
    text=TEXT,
    headers={"X-Podpiska-Event": "subscription.reminder"},
)
SENDER = "Podpiska <billing@vendor.example>"


# -- the mailbox folder --------------------------------------------------------------------


def test_the_mailbox_writes_a_readable_utf8_eml_file(tmp_path: Path) -> None:
    at = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    MailboxMailer(tmp_path / "mail", SENDER, now=lambda: at).send(MESSAGE)

    [path] = (tmp_path / "mail").glob("*.eml")
    assert path.name.startswith("20261122T093000.000000Z-")
    assert path.name.endswith("-admin@romashka.example.eml")
    raw = path.read_bytes().decode("utf-8")  # plain UTF-8, Cyrillic readable as it is
    assert f"Subject: {SUBJECT}" in raw
    assert "43 092,00 ₽" in raw

    parsed = read_message(path)
    assert parsed["Subject"] == SUBJECT
    assert parsed["To"] == "admin@romashka.example"
    assert parsed["From"] == SENDER
    assert parsed["X-Podpiska-Event"] == "subscription.reminder"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed.get_content() == TEXT
    assert [p.name for p in (tmp_path / "mail").iterdir()] == [path.name]  # no temp files


def test_list_mailbox_shows_the_messages_oldest_first(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    assert list_mailbox(folder) == []
    times = iter(
        [
            datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
            datetime(2026, 11, 22, 9, 0, tzinfo=UTC) + timedelta(microseconds=1),
            datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        ]
    )
    mailer = MailboxMailer(folder, now=lambda: next(times))
    for n in range(3):
        mailer.send(EmailMessage(to=f"user{n}@example.com", subject=f"Письмо {n}", text="…"))

    rows = list_mailbox(folder)
    assert [(to, subject) for _path, _date, to, subject in rows] == [
        ("user0@example.com", "Письмо 0"),
        ("user1@example.com", "Письмо 1"),
        ("user2@example.com", "Письмо 2"),
    ]
    assert rows[2][1] == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert all(path.parent == folder for path, *_ in rows)


def test_the_mailbox_fails_with_delivery_failed_when_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(DeliveryFailed, match="mailbox"):
        MailboxMailer(blocker).send(MESSAGE)


# -- a tiny SMTP server --------------------------------------------------------------------


@dataclass
class SmtpServer:
    """Speaks just enough ESMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
    Recipients at `refused.example` are rejected with 550."""

    username: str = "podpiska"
    password: str = "s3cret"
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                self._session(connection.makefile("rwb"))

    def _session(self, stream: io.BufferedRWPair) -> None:
        def reply(line: str) -> None:
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        reply("220 localhost test ESMTP")
        sender, recipients = "", list[str]()
        while True:
            raw = stream.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            self.commands.append(verb)
            if verb in {"EHLO", "HELO"}:
                reply("250-localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                _, _, encoded = line.split(" ", 2)
                _, user, secret = base64.b64decode(encoded).decode().split("\0")
                if (user, secret) == (self.username, self.password):
                    reply("235 2.7.0 Authentication successful")
                else:
                    reply("535 5.7.8 Authentication credentials invalid")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].split()[0].strip("<>"), []
                reply("250 OK")
            elif verb == "RCPT":
                address = line.split(":", 1)[1].strip().strip("<>")
                if address.endswith("@refused.example"):
                    reply("550 5.1.1 No such user")
                else:
                    recipients.append(address)
                    reply("250 OK")
            elif verb == "DATA":
                reply("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while True:
                    chunk = stream.readline()
                    if chunk in {b".\r\n", b""}:
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                if any(r.endswith("@full.example") for r in recipients):
                    reply("552 5.2.2 Mailbox full")
                    continue
                self.messages.append((sender, recipients, data))
                reply("250 OK queued")
            elif verb == "QUIT":
                reply("221 Bye")
                return
            elif verb in {"RSET", "NOOP"}:
                reply("250 OK")
            else:
                reply("502 5.5.2 Command not recognized")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


def mailer_for(server: SmtpServer, **overrides: object) -> SmtpMailer:
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": server.username,
        "password": server.password,
        "use_tls": False,
        "sender": SENDER,
        "timeout_seconds": 5,
    }
    settings.update(overrides)
    return SmtpMailer(**settings)  # type: ignore[arg-type]


def test_smtp_sends_a_utf8_message_after_logging_in(smtp_server: SmtpServer) -> None:
    mailer_for(smtp_server).send(MESSAGE)

    [(sender, recipients, data)] = smtp_server.messages
    assert (sender, recipients) == ("billing@vendor.example", ["admin@romashka.example"])
    assert "AUTH" in smtp_server.commands
    assert "STARTTLS" not in smtp_server.commands
    parsed = BytesParser(policy=default_policy).parsebytes(data)
    assert isinstance(parsed, MimeMessage)
    assert parsed["Subject"] == SUBJECT
    assert parsed["From"] == SENDER
    assert parsed["X-Podpiska-Event"] == "subscription.reminder"
    assert parsed["Message-ID"].endswith("@vendor.example>")
    assert parsed.get_content().replace("\r\n", "\n") == TEXT
    assert data.isascii()  # encoded headers and body: any server takes it


def test_smtp_errors_become_delivery_failed(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryFailed, match="550"):
        mailer_for(smtp_server).send(
            EmailMessage(to="nobody@refused.example", subject="Тест", text="…")
        )
    with pytest.raises(DeliveryFailed, match="535"):
        mailer_for(smtp_server, password="wrong").send(MESSAGE)
    # smtplib cannot encode a non-ASCII password: a clear failure, not a crashed worker.
    with pytest.raises(DeliveryFailed, match="ascii"):
        mailer_for(smtp_server, password="секрет").send(MESSAGE)
    # STARTTLS asked for but not offered by the server: refuse to send in clear text.
    with pytest.raises(DeliveryFailed, match="STARTTLS"):
        mailer_for(smtp_server, use_tls=True).send(MESSAGE)
    assert smtp_server.messages == []


def test_smtp_5xx_for_the_message_is_permanent_and_the_configurations_is_not(
    smtp_server: SmtpServer,
) -> None:
    def failure(mailer: SmtpMailer, to: str) -> DeliveryFailed:
        with pytest.raises(DeliveryFailed) as caught:
            mailer.send(EmailMessage(to=to, subject="Тест", text="…"))
        return caught.value

    # for this message: no such user (RCPT 550), refused data (552): dead at once
    assert failure(mailer_for(smtp_server), "nobody@refused.example").permanent
    assert failure(mailer_for(smtp_server), "admin@full.example").permanent
    # the vendor's configuration (a wrong password, 535): retried until it is fixed
    wrong = failure(mailer_for(smtp_server, password="wrong"), "admin@romashka.example")
    assert "535" in str(wrong) and not wrong.permanent
    assert smtp_server.messages == []


def test_smtp_unreachable_server_is_delivery_failed() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailer = SmtpMailer("127.0.0.1", port, None, None, False, SENDER, timeout_seconds=2)
    with pytest.raises(DeliveryFailed, match=f"127.0.0.1:{port}"):
        mailer.send(MESSAGE)
