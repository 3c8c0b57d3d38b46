"""Notifications: inbox items and e-mails in each recipient's language, the unread count, and the
outbox sent over real SMTP (a minimal server on loopback) or kept when none is configured."""

from __future__ import annotations

import socketserver
import threading

from sqlalchemy import select

from sangsaeng.core.notifications import service as notifications
from sangsaeng.core.notifications.models import Notification, OutboxEmail
from tests.factories import api_token, bearer, make_org, make_user, session_cookie


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept mail: what a relay would see."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        in_data = False
        lines: list[str] = []
        while line := self.rfile.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if in_data:
                if text == ".":
                    self.server.messages.append("\n".join(lines))
                    lines, in_data = [], False
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(text)
                continue
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == "DATA":
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_declared_link_asks_the_other_side_in_its_language(client, db):
    sponsor = make_org(db, kind="sponsor", size_class="large", name_ko="후원대기업")
    supplier = make_org(db, name_ko="협력중소기업")
    sponsor_user = make_user(db, roles=[(sponsor, "sponsor")])
    korean = make_user(db, roles=[(supplier, "sme")])
    english = make_user(db, roles=[(supplier, "sme")])
    english.locale = "en"
    db.commit()
    client.post(
        f"/api/v1/organizations/{sponsor.id}/suppliers",
        json={"supplier_business_no": supplier.business_no},
        headers=bearer(api_token(db, sponsor_user)),
    )
    db.expire_all()
    items = {n.user_id: n for n in db.scalars(select(Notification))}
    assert items[korean.id].title == "거래 관계 확인 요청"
    assert items[english.id].title == "Please confirm a supply-chain link"
    assert "후원대기업" in items[korean.id].body and items[korean.id].link == f"/orgs/{supplier.id}"
    assert sponsor_user.id not in items
    mails = db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert {m.to_address for m in mails} == {korean.email, english.email}
    assert all(m.status == "queued" for m in mails)

    cookie, csrf = session_cookie(db, korean)
    db.commit()
    client.cookies.set("ss_session", cookie)
    page = client.get("/")
    assert 'id="unread-count">1<' in page.text
    inbox = client.get("/notifications")
    assert "거래 관계 확인 요청" in inbox.text
    note_id = items[korean.id].id
    assert (
        client.post(f"/notifications/{note_id}/read", data={"csrf_token": csrf}).status_code == 303
    )
    assert 'id="unread-count"' not in client.get("/").text
    theirs = items[english.id].id
    assert (
        client.post(f"/notifications/{theirs}/read", data={"csrf_token": csrf}).status_code == 404
    )


def test_outbox_waits_without_smtp_and_retries_when_the_server_is_down(db):
    user = make_user(db)
    db.commit()
    notifications.notify(db, [user.id], title=notifications.Msg("A job is done"), body="본문")
    db.commit()
    assert notifications.send_outbox(db, None) == {"sent": 0, "failed": 0}
    down = notifications.send_outbox(db, "smtp://127.0.0.1:9")  # nothing listens on port 9
    db.commit()
    mail = db.scalar(select(OutboxEmail))
    assert down == {"sent": 0, "failed": 1}
    assert mail.status == "queued" and mail.attempts == 1 and mail.error


def test_outbox_is_sent_over_smtp(db):
    user = make_user(db, email="to@example.kr")
    db.commit()
    notifications.notify(
        db,
        [user.id],
        title=notifications.Msg("A job is done"),
        body="기관 일괄 등록",
        link="/jobs/abc",
    )
    db.commit()
    server = smtp_server()
    try:
        port = server.server_address[1]
        url = f"smtp://127.0.0.1:{port}?from=noreply@sangsaeng.example"
        result = notifications.send_outbox(db, url)
        db.commit()
    finally:
        server.shutdown()
        server.server_close()
    assert result == {"sent": 1, "failed": 0}
    mail = db.scalar(select(OutboxEmail))
    assert mail.status == "sent" and mail.sent_at is not None
    [message] = server.messages
    assert "To: to@example.kr" in message and "/jobs/abc" in message
    assert "From: noreply@sangsaeng.example" in message
