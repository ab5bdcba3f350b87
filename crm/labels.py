"""Human labels for codes shown in the UI (audit actions, job statuses), in both languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

AUDIT_ACTIONS = {
    "workspace.created": _l("created the workspace"),
    "auth.sign_in": _l("signed in"),
    "auth.sign_in_failed": _l("failed to sign in"),
    "auth.password_changed": _l("changed their password"),
    "auth.password_reset": _l("reset their password"),
    "invitation.created": _l("invited a member"),
    "invitation.revoked": _l("revoked an invitation"),
    "member.joined": _l("joined the workspace"),
    "member.roles_changed": _l("changed a member's roles"),
    "member.updated": _l("updated a member"),
    "member.deactivated": _l("deactivated a member"),
    "member.reactivated": _l("reactivated a member"),
    "ownership.transferred": _l("transferred ownership"),
    "api_token.created": _l("created an API token"),
    "api_token.revoked": _l("revoked an API token"),
    "customer.created": _l("created the customer"),
    "customer.updated": _l("updated the customer"),
    "customer.archived": _l("archived the customer"),
    "customer.collaborators": _l("changed the collaborators"),
    "customer.merged": _l("merged a duplicate into this customer"),
    "customer.merged_away": _l("merged this customer into another"),
    "contact.created": _l("added a contact"),
    "contact.updated": _l("updated a contact"),
    "contact.deleted": _l("deleted a contact"),
}

JOB_STATUSES = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "finished": _l("Ready"),
    "failed": _l("Failed"),
}


def audit_label(action: str) -> str:
    return str(AUDIT_ACTIONS.get(action, action))


def job_status(status: str) -> str:
    return str(JOB_STATUSES.get(status, status))


def role_label(name: str) -> str:
    from roles.catalogue import ROLES

    role = ROLES.get(name)
    return str(role.label) if role else name
