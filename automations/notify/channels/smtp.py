"""Email over SMTP: plain text and HTML in one message, an unsubscribe link in every email to a lead.

SMTP_URL says how to connect:
  smtp://user:pass@host:587   STARTTLS, then log in (required whenever credentials are given)
  smtps://user:pass@host:465  TLS from the first byte
  smtp://host:25              plain, no login: a local relay
A 5xx answer about a recipient or the message is permanent; connection problems, 4xx
answers and a refused login (fix the password and the retries go through) are not. A
connection lost after the whole message went out (after DATA, before the server's 250) leaves
the outcome unknown: the server may have accepted it, so notify does not send it to a lead again.
An email to a lead waits (a passing error) while there is no public URL for its unsubscribe link.
"""
from __future__ import annotations

import html
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Callable
from urllib.parse import unquote, urlsplit

from automations.notify.delivery import ChannelError
from automations.ports import Message

UNSUBSCRIBE = "[Unsubscribe]"
_LINK = re.compile(r"(https?://[^\s<]+)")


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str = ""
    password: str = ""
    implicit_tls: bool = False

    @property
    def starttls(self) -> bool:
        return not self.implicit_tls and bool(self.username)

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
        implicit = parts.scheme == "smtps"
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        port = parts.port or (465 if implicit else 587 if user else 25)
        return cls(parts.hostname, port, user, password, implicit)


def to_html(text: str) -> str:
    """The text part as simple HTML: paragraphs, line breaks, clickable links."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for p in paragraphs:
        escaped = html.escape(p).replace("\n", "<br>\n")
        out.append("<p>" + _LINK.sub(r'<a href="\1">\1</a>', escaped) + "</p>")
    return "<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n" + "\n".join(out) + "\n</body></html>\n"


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


class _Verdict:
    """Mixin for smtplib.SMTP: remembers that the server said 354, i.e. the message itself is
    being sent, so a connection lost from then on may have delivered it."""
    message_sent = False

    def getreply(self):
        code, text = super().getreply()
        if code == 354:
            self.message_sent = True
        return code, text


class _SMTP(_Verdict, smtplib.SMTP):
    pass


class _SMTP_SSL(_Verdict, smtplib.SMTP_SSL):  # noqa: N801 - smtplib's own spelling
    pass


class SmtpChannel:
    """Sends one email per connection: messages are few, and a fresh connection never goes stale."""

    def __init__(self, server: SmtpServer, sender: str, *, unsubscribe_url: Callable[[Message], str] | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 20.0) -> None:
        self.server = server
        self.sender = sender
        self.unsubscribe_url = unsubscribe_url
        self.ssl_context = ssl_context
        self.timeout = timeout

    @classmethod
    def from_url(cls, url: str, sender: str = "", **kwargs) -> "SmtpChannel":
        server = SmtpServer.from_url(url)
        if not sender:
            sender = server.username if "@" in server.username else f"leadrouter@{server.host}"
        return cls(server, sender, **kwargs)

    def build(self, message: Message) -> EmailMessage:
        text = message.body
        link = self.unsubscribe_url(message) if self.unsubscribe_url and message.recipient == "lead" else ""
        if self.unsubscribe_url and message.recipient == "lead" and not link:
            raise ChannelError("no public URL for the unsubscribe link (set LEADROUTER_PUBLIC_URL or the "
                               "Settings tab's Public URL); the email waits")
        if link:
            if UNSUBSCRIBE in text:  # the template placed it: exactly one link, where the owner wanted it
                text = text.replace(UNSUBSCRIBE, link, 1).replace(UNSUBSCRIBE, "")
            else:
                text = f"{text.rstrip()}\n\n--\nNo more emails? Unsubscribe: {link}\n"
        email = EmailMessage()
        email["Subject"] = _one_line(message.subject) or "(no subject)"  # a name typed with a newline
        email["From"] = formataddr((_one_line(message.extra.get("from_name", "")), self.sender))
        email["To"] = message.to
        if message.extra.get("reply_to"):
            email["Reply-To"] = message.extra["reply_to"]
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        if link:
            email["List-Unsubscribe"] = f"<{link}>"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email.set_content(text)
        email.add_alternative(message.html or to_html(text), subtype="html")
        if message.extra.get("attachment"):  # e.g. the daily HawkSoft import file (automations/ams/daily.py)
            email.add_attachment(message.extra["attachment"].encode("utf-8"), maintype="text", subtype="csv",
                                 filename=message.extra.get("attachment_name") or "attachment.csv")
        return email

    def send(self, message: Message) -> str | None:
        try:
            email = self.build(message)
        except ValueError as exc:  # an address the email library cannot write: retrying will not help
            raise ChannelError(f"cannot build the email ({exc})", permanent=True) from None
        smtp = None
        try:
            with self._open() as smtp:
                self._login(smtp)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise ChannelError(f"recipient refused ({', '.join(map(str, codes))})",
                               permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelError(f"SMTP login refused ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(f"SMTP server answered {exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
        except OSError as exc:  # SMTPServerDisconnected, timeouts, resets (smtplib's errors are OSErrors too)
            if smtp is not None and smtp.message_sent:
                raise ChannelError(f"SMTP connection lost before the server confirmed the message "
                                   f"({type(exc).__name__})", outcome_unknown=True) from None
            raise ChannelError(f"SMTP unreachable ({type(exc).__name__})") from None
        return email["Message-ID"]

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def _open(self) -> smtplib.SMTP:
        s = self.server
        if s.implicit_tls:
            return _SMTP_SSL(s.host, s.port, timeout=self.timeout, context=self._context())
        return _SMTP(s.host, s.port, timeout=self.timeout)

    def _login(self, smtp: smtplib.SMTP) -> None:
        if self.server.starttls:
            smtp.starttls(context=self._context())
        if self.server.username:
            smtp.login(self.server.username, self.server.password)
