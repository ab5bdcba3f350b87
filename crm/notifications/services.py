"""Sending and reading in-app notifications, and e-mailing them when mail is configured.

``notify`` always writes the in-app notification. When MAIL_SERVER is set and the kind is one
of MAIL_KINDS (or the caller asks with ``email=True``), it also e-mails the recipient — in the
recipient's language (their profile locale; a title or body given as a lazy string is rendered
in that language too), unless the member turned "E-mail me notifications" off on their profile.
Inside a request the mail goes after the response (and only if the notification was committed);
in a job it goes at once. Without MAIL_SERVER nothing is sent.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from crm.db import db, utcnow
from crm.i18n import SUPPORTED
from crm.mail import mail_configured, send_mail
from crm.notifications.models import Notification
from crm.urls import after_response
from tenants.models import Membership, Tenant, User

log = logging.getLogger("taizhang.notifications")

# The kinds of notification that warrant an e-mail as well as the bell — kept here, in one place.
MAIL_KINDS = frozenset(
    {
        "announcement.published",
        "announcement.reminder",
        "report.comment",
        "report.reminder",
        "contract.submitted",
        "contract.approved",
        "contract.rejected",
        "pool.warning",
        # Someone has to act (approve, correct) or money moved: worth an e-mail.
        "expense.submitted",
        "expense.rejected",
        "expense.paid",
    }
)
OPTOUT_KEY = "mail_optout"  # tenant.settings[OPTOUT_KEY]: ids of members who want no e-mail


def mail_opted_out(member: Membership) -> bool:
    tenant = db.session.get(Tenant, member.tenant_id)
    return member.id in ((tenant.settings or {}).get(OPTOUT_KEY) or []) if tenant else True


def set_mail_optout(tenant: Tenant, member_id: int, opted_out: bool) -> bool:
    """Turn a member's notification e-mail off (opted_out) or on; True when it changed."""
    ids = [int(i) for i in ((tenant.settings or {}).get(OPTOUT_KEY) or [])]
    if (member_id in ids) == opted_out:
        return False
    ids = sorted({*ids, member_id}) if opted_out else [i for i in ids if i != member_id]
    tenant.settings = {**(tenant.settings or {}), OPTOUT_KEY: ids}
    return True


def user_gets_mail(user: User) -> bool:
    """For the profile page: does this person get notification e-mail (in all their workspaces)?"""
    from tenants.services import memberships_of

    return not any(mail_opted_out(m) for m in memberships_of(user))


def set_user_mail(user: User, wanted: bool) -> int:
    """The profile's "E-mail me notifications": applies to each of the user's workspaces.
    Returns how many changed."""
    from tenants.services import memberships_of

    changed = 0
    for m in memberships_of(user):
        tenant = db.session.get(Tenant, m.tenant_id)
        if tenant is not None and set_mail_optout(tenant, m.id, not wanted):
            changed += 1
    return changed


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _public_url(link: str | None) -> str | None:
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    base = current_app.config.get("PUBLIC_URL") or (request.host_url if has_request_context() else "")
    return (base.rstrip("/") + link) if base else link


def recipient_locale(recipient: Membership) -> str:
    """The language the member reads in: their profile's, else the workspace default."""
    locale = recipient.user.locale if recipient.user.locale in SUPPORTED else None
    return locale or current_app.config.get("BABEL_DEFAULT_LOCALE") or "zh_Hans_CN"


def compose_mail(recipient: Membership, tenant: Tenant, title: Any, body: Any, link: str | None) -> tuple[str, str]:
    """(subject, text) in the recipient's language."""
    with force_locale(recipient_locale(recipient)):
        heading = _text(title)
        subject = f"[{tenant.name}] {heading}"
        parts = [heading]
        if body:
            parts.append(_text(body))
        url = _public_url(link)
        if url:
            parts.append(_("Open it in Taizhang: %(url)s", url=url))
        profile = _public_url("/account/profile")
        parts.append(
            "-- \n"
            + _(
                "You get this e-mail as a member of %(workspace)s. To stop notification e-mails, "
                "turn off “E-mail me notifications” on your profile: %(url)s",
                workspace=tenant.name,
                url=profile,
            )
        )
    return subject, "\n\n".join(parts)


def _mail(recipient: Membership, note: Notification, kind: str, title: Any, body: Any, link: str | None) -> None:
    if not mail_configured():
        log.debug("notification %s not e-mailed: MAIL_SERVER unset", kind)
        return
    if not recipient.is_active or mail_opted_out(recipient):
        return
    tenant = db.session.get(Tenant, recipient.tenant_id)
    if tenant is None:
        return
    to = recipient.user.email
    subject, text = compose_mail(recipient, tenant, title, body, link)
    if not has_request_context():
        send_mail(to, subject, text)  # a job: now
        return
    db.session.flush()  # the id, to check after the response that the notification was committed
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    note_id, tenant_id, member_id = note.id, tenant.id, recipient.id

    def _send() -> None:
        from tenants.context import tenant_context

        with app.app_context(), tenant_context(tenant_id):
            try:
                if db.session.get(Notification, note_id) is None:
                    return  # the request rolled back: there is nothing to tell
                send_mail(to, subject, text)
            except Exception:
                log.exception("notification e-mail to member %s failed", member_id)
            finally:
                db.session.remove()

    after_response(_send)


def notify(
    recipient: Membership,
    kind: str,
    title: Any,
    body: Any = None,
    link: str | None = None,
    *,
    email: bool | None = None,
) -> Notification:
    """Notify a member in the app; e-mail them too for MAIL_KINDS (email=True/False overrides).

    Pass lazy strings (lazy_gettext with its variables): they are rendered here in the
    recipient's language, so a rep reading English gets English whoever triggered it."""
    with force_locale(recipient_locale(recipient)):
        title_text, body_text = _text(title)[:200], _text(body) or None
    note = Notification(recipient_id=recipient.id, kind=kind, title=title_text, body=body_text, link=link)
    db.session.add(note)
    if email if email is not None else kind in MAIL_KINDS:
        _mail(recipient, note, kind, title, body, link)
    return note


def unread_count(member: Membership) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.recipient_id == member.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def recent(member: Membership, limit: int = 20) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == member.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(member: Membership, note_id: int | None = None) -> int:
    stmt = update(Notification).where(Notification.recipient_id == member.id, Notification.read_at.is_(None))
    if note_id is not None:
        stmt = stmt.where(Notification.id == note_id)
    result = db.session.execute(stmt.values(read_at=utcnow()))
    return result.rowcount or 0
