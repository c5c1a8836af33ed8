"""Mailers: SMTP for production, a local mailbox folder for development and demos.

Both take a `podpiska.ports.EmailMessage` and raise `DeliveryFailed` when the message
cannot be handed over; the delivery worker then retries it later.
"""

from __future__ import annotations

import email.policy
import email.utils
import itertools
import os
import smtplib
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser
from pathlib import Path

from podpiska.ports import DeliveryFailed, EmailMessage

DEFAULT_SENDER = "Podpiska <billing@localhost>"
SMTP_TIMEOUT_SECONDS = 30


# Over SMTP: headers RFC 2047 encoded and the body in quoted-printable or base64, so that
# any server takes the message (no SMTPUTF8 or 8BITMIME needed).
SMTP_POLICY = email.policy.SMTP.clone(cte_type="7bit")
# Files keep headers and body in plain UTF-8 (RFC 6532) so that they read well in an
# editor too; every mail client opens them.
MAILBOX_POLICY = email.policy.default.clone(utf8=True)


def to_mime(
    message: EmailMessage,
    *,
    sender: str,
    now: datetime | None = None,
    policy: email.policy.EmailPolicy[MimeMessage] = SMTP_POLICY,
) -> MimeMessage:
    """The message as MIME: UTF-8 text (and HTML when given) with its attachments (PDFs),
    in the form `policy` gives (7-bit clean for SMTP by default)."""
    mime = MimeMessage(policy=policy)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.format_datetime(now or datetime.now(UTC))
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mime["Message-ID"] = email.utils.make_msgid(domain=domain)
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text, charset="utf-8")
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html", charset="utf-8")
    for attachment in message.attachments:  # multipart/mixed, each file in base64
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mime


class SmtpMailer:
    """Sends through an SMTP server; `use_tls` upgrades the connection with STARTTLS.

    (For implicit TLS on port 465 pass `implicit_tls=True`.)
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        use_tls: bool,
        sender: str = DEFAULT_SENDER,
        *,
        implicit_tls: bool = False,
        timeout_seconds: float = SMTP_TIMEOUT_SECONDS,  # float-ok: seconds
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.use_tls = use_tls
        self.sender = sender
        self.implicit_tls = implicit_tls
        self.timeout_seconds = timeout_seconds
        self.ssl_context = ssl_context

    def send(self, message: EmailMessage) -> None:
        mime = to_mime(message, sender=self.sender)
        try:
            context = self.ssl_context or ssl.create_default_context()
            smtp: smtplib.SMTP
            if self.implicit_tls:
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout_seconds, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds)
            with smtp:
                smtp.ehlo()
                if self.use_tls and not self.implicit_tls:
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(mime)
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            raise DeliveryFailed(
                f"SMTP {self.host}:{self.port}: {_describe(exc)}", permanent=_permanent(exc)
            ) from exc
        if refused:  # some recipients took it: sending again would send it to them twice
            raise DeliveryFailed(
                f"SMTP {self.host}:{self.port} refused {', '.join(refused)}", permanent=True
            )


def _permanent(exc: BaseException) -> bool:
    """A 5xx reply about this message (RFC 5321: do not repeat it as it is): every recipient
    refused with 5xx (no such user), or the message's data refused (size, content). Not a
    refused login or sender, whose 5xx is the configuration's and is fixed by the vendor
    (until then the deliveries wait and retry), nor 4xx, a network error or a timeout."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        return f"{exc.smtp_code} {text}"
    return str(exc) or type(exc).__name__


class MailboxMailer:
    """Writes each message as an `.eml` file into a local folder instead of sending it.

    File names sort by time: `20261122T120000.123456Z-0001-<to>.eml`. Open them with any
    mail client, or list them with `podpiska mailbox`.
    """

    _counter = itertools.count(1)
    _lock = threading.Lock()

    def __init__(
        self,
        folder: str | Path,
        sender: str = DEFAULT_SENDER,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.sender = sender
        self._now = now or (lambda: datetime.now(UTC))

    def send(self, message: EmailMessage) -> None:
        at = self._now()
        mime = to_mime(message, sender=self.sender, now=at, policy=MAILBOX_POLICY)
        with self._lock:
            serial = next(self._counter) % 10_000
        stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{os.getpid()}-{serial:04d}-{_safe(message.to)}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = self.folder / f".{name}.tmp"
            partial.write_bytes(mime.as_bytes())
            partial.replace(self.folder / name)  # readers never see half a message
        except OSError as exc:
            raise DeliveryFailed(f"mailbox {self.folder}: {exc}") from exc


def _safe(address: str) -> str:
    kept = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in address)
    return kept[:80] or "unknown"


def read_message(path: str | Path) -> MimeMessage:
    """One `.eml` file, parsed (headers decoded, `get_content()` gives the text)."""
    with Path(path).open("rb") as file:
        parsed = BytesParser(policy=email.policy.default).parse(file)
    assert isinstance(parsed, MimeMessage)
    return parsed


def list_mailbox(folder: str | Path) -> list[tuple[Path, datetime | None, str, str]]:
    """The messages in a mailbox folder, oldest first: (path, date, to, subject)."""
    root = Path(folder)
    if not root.is_dir():
        return []
    rows: list[tuple[Path, datetime | None, str, str]] = []
    for path in sorted(root.glob("*.eml")):
        try:
            message = read_message(path)
        except OSError:
            continue
        date_header = message["Date"]
        try:
            sent = email.utils.parsedate_to_datetime(str(date_header)) if date_header else None
        except (TypeError, ValueError):
            sent = None
        rows.append((path, sent, str(message["To"] or ""), str(message["Subject"] or "")))
    return rows
