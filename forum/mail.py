"""Outgoing email: the only way the forum sends mail, so that every message looks the same.

Messages are rendered from templates/email/<name>.txt and .html (both parts, for clients that
show only one), in the recipient's language rather than the current reader's, and sent over
plain SMTP (optionally STARTTLS or SSL) as configured by the FORUM_MAIL_* settings.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from forum.i18n import N_, text_direction

# 7-bit transfer encoding: non-ASCII (Arabic) bodies go as base64 or quoted-printable and
# headers as RFC 2047 words, so no relay on the way needs to support 8BITMIME or SMTPUTF8.
POLICY = email.policy.SMTP.clone(cte_type="7bit")

# The forum's name in mail and on pages when FORUM_SITE_NAME is not set (translated when shown).
DEFAULT_SITE_NAME = N_("LLM Privacy, Safety & Security Forum")


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under FORUM_BASE_URL, the same in requests, CLI commands and jobs.

    url_for(_external=True) would take the host from the current request (or need SERVER_NAME),
    but links in mail must always point at the public address, whoever triggered the email.
    """
    base = urlsplit(current_app.config["FORUM_BASE_URL"])
    anchor = values.pop("_anchor", None)
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    url = adapter.build(endpoint, values, force_external=True)
    return url + "#" + quote(anchor, safe="%!#$&'()*+,/:;=?@") if anchor else url


def build_message(
    *,
    to: str,
    subject: str,
    template: str,
    locale: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> EmailMessage:
    """Render templates/email/<template>.txt and .html, in `locale`, into one message.

    The locale is forced rather than taken from the request: the person who triggers an email
    (a replier, a moderator, a cron job) is rarely the one who reads it.
    """
    config = current_app.config
    locale = locale or config["BABEL_DEFAULT_LOCALE"]
    sender = config["FORUM_MAIL_SENDER"]
    with force_locale(locale):
        context = {
            "subject": subject,
            "locale": locale,
            "text_dir": text_direction(locale),
            "site_name": config["FORUM_SITE_NAME"] or gettext(DEFAULT_SITE_NAME),
            "site_url": external_url("discussions.home"),
            **context,
        }
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)

    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC), usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = locale  # after: set_content() drops Content-* headers
    return message


def send_message(message: EmailMessage) -> None:
    """Hand the message to the configured SMTP server; any failure becomes a MailError."""
    config = current_app.config
    host, port, timeout = (
        config["FORUM_MAIL_HOST"],
        config["FORUM_MAIL_PORT"],
        config["FORUM_MAIL_TIMEOUT"],
    )
    try:
        if config["FORUM_MAIL_USE_SSL"]:
            context = ssl.create_default_context()
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:  # quits (or closes the socket) however the exchange ends
            if config["FORUM_MAIL_USE_TLS"] and not config["FORUM_MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["FORUM_MAIL_USERNAME"]:
                smtp.login(config["FORUM_MAIL_USERNAME"], config["FORUM_MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"could not send mail through {host}:{port}: {error}") from error


def send_email(
    *, to: str, subject: str, template: str, locale: str | None = None, **context: Any
) -> str:
    """Build and send one email; return its Message-ID (to thread replies or log deliveries).

    Needs an app context only, not a request: CLI commands and jobs send mail too.
    """
    message = build_message(to=to, subject=subject, template=template, locale=locale, **context)
    send_message(message)
    return message["Message-ID"]
