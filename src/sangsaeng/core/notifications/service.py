"""Notifying users: one call puts an item in each recipient's inbox and, if wanted, an e-mail in
the outbox. The outbox is sent by the worker when ``SANGSAENG_SMTP_URL`` is set; otherwise mails
stay there for an administrator to see. Messages are rendered in each recipient's language."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sangsaeng.core import i18n
from sangsaeng.core.errors import NotFound
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import Membership, User, utcnow
from sangsaeng.core.notifications.models import Notification, OutboxEmail
from sangsaeng.core.pagination import Page, paginate
from sangsaeng.core.policy import Action, Actor, assert_can

log = logging.getLogger("sangsaeng.notifications")
MAX_SEND_ATTEMPTS = 5


def _in_locale(locale: str, message: Msg | str) -> str:
    token = i18n.set_locale(locale)
    try:
        return str(message)
    finally:
        i18n.reset_locale(token)


def notify(
    session: Session,
    user_ids: Iterable[int],
    *,
    title: Msg,
    body: Msg | str = "",
    link: str | None = None,
    email: bool = True,
) -> int:
    """Inbox items (and e-mails) for active users, each in the user's own language."""
    users = session.scalars(
        select(User).where(User.id.in_(set(user_ids)), User.is_active.is_(True))
    ).all()
    for user in users:
        subject, text = _in_locale(user.locale, title), _in_locale(user.locale, body)
        session.add(Notification(user_id=user.id, title=subject[:200], body=text, link=link))
        if email:
            footer = f"\n\n{link}" if link else ""
            session.add(
                OutboxEmail(to_address=user.email, subject=subject[:200], body=text + footer)
            )
    session.flush()
    return len(users)


def members_of(session: Session, organization_id: int, roles: tuple[str, ...]) -> list[int]:
    return list(
        session.scalars(
            select(Membership.user_id).where(
                Membership.organization_id == organization_id, Membership.role.in_(roles)
            )
        )
    )


def unread_count(session: Session, actor: Actor) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def inbox(session: Session, actor: Actor, *, page: int = 1) -> Page[Notification]:
    stmt = (
        select(Notification)
        .where(Notification.user_id == actor.user_id)
        .order_by(Notification.id.desc())
    )
    return paginate(session, stmt, page, 30)


def mark_read(session: Session, actor: Actor, notification_id: int | None = None) -> int:
    """One notification, or all of the actor's when no id is given."""
    if notification_id is not None:
        item = session.get(Notification, notification_id)
        if item is None or item.user_id != actor.user_id:
            raise NotFound()
        if item.read_at is None:
            item.read_at = utcnow()
        session.flush()
        return 1
    return session.execute(
        update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount


def outbox(session: Session, actor: Actor, *, page: int = 1) -> Page[OutboxEmail]:
    assert_can(session, actor, Action.USERS_MANAGE)
    return paginate(session, select(OutboxEmail).order_by(OutboxEmail.id.desc()), page, 50)


def send_outbox(session: Session, smtp_url: str | None, *, batch: int = 100) -> dict[str, int]:
    """Send queued mails (the worker's periodic task). Without SMTP nothing leaves the outbox."""
    if not smtp_url:
        return {"sent": 0, "failed": 0}
    parts = urlsplit(smtp_url)  # smtp://user:pass@host:587 or smtps://host:465
    sent = failed = 0
    queued = session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.status == "queued")
        .order_by(OutboxEmail.id)
        .limit(batch)
    ).all()
    if not queued:
        return {"sent": 0, "failed": 0}
    # The sender comes from ?from=…; the user name and password, when both given, log in.
    sender = parse_qs(parts.query).get("from", ["sangsaeng@localhost"])[0]
    connect = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    try:
        with connect(parts.hostname or "localhost", parts.port or 25, timeout=30) as smtp:
            if parts.scheme == "smtp+starttls":
                smtp.starttls()
            if parts.username and parts.password is not None:
                smtp.login(unquote(parts.username), unquote(parts.password))
            for mail in queued:
                message = EmailMessage()
                message["From"] = sender
                message["To"] = mail.to_address
                message["Subject"] = mail.subject
                message.set_content(mail.body)
                mail.attempts += 1
                try:
                    smtp.send_message(message)
                    mail.status, mail.sent_at, mail.error = "sent", utcnow(), None
                    sent += 1
                except smtplib.SMTPException as exc:
                    mail.error = str(exc)[:500]
                    if mail.attempts >= MAX_SEND_ATTEMPTS:
                        mail.status = "failed"
                    failed += 1
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP unavailable: %s", exc)
        for mail in queued:
            mail.attempts += 1
            mail.error = str(exc)[:500]
        failed = len(queued)
    session.flush()
    return {"sent": sent, "failed": failed}
