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
    "settings.letterhead": _l("changed the letterhead"),
    "settings.workspace": _l("changed the workspace settings"),
    "api_token.created": _l("created an API token"),
    "api_token.revoked": _l("revoked an API token"),
    "customer.created": _l("created the customer"),
    "customer.updated": _l("updated the customer"),
    "customer.archived": _l("archived the customer"),
    "customer.collaborators": _l("changed the collaborators"),
    "customer.merged": _l("merged a duplicate into this customer"),
    "customer.merged_away": _l("merged this customer into another"),
    "customer.claimed": _l("claimed the customer from the pool"),
    "customer.released": _l("released the customer to the pool"),
    "customer.assigned": _l("assigned the customer"),
    "customer.returned": _l("sent the customer back to the pool (idle)"),
    "pool.rules_changed": _l("changed the pool rules"),
    "registry.imported": _l("imported business registration data"),
    "contact.created": _l("added a contact"),
    "contact.updated": _l("updated a contact"),
    "contact.deleted": _l("deleted a contact"),
    "followup.created": _l("logged a follow-up"),
    "followup.updated": _l("updated a follow-up"),
    "followup.deleted": _l("deleted a follow-up"),
    "task.created": _l("created a task"),
    "task.updated": _l("updated a task"),
    "task.done": _l("completed a task"),
    "task.deleted": _l("deleted a task"),
    "attachment.added": _l("attached a file"),
    "attachment.deleted": _l("deleted an attachment"),
    "pipeline.created": _l("created the pipeline"),
    "pipeline.stage_updated": _l("changed a pipeline stage"),
    "pipeline.updated": _l("renamed the pipeline"),
    "pipeline.default_set": _l("made the pipeline the default"),
    "pipeline.deleted": _l("deleted the pipeline"),
    "pipeline.stage_created": _l("added a pipeline stage"),
    "pipeline.stage_deleted": _l("deleted a pipeline stage"),
    "pipeline.stages_reordered": _l("reordered the pipeline's stages"),
    "lost_reason.created": _l("added a lost reason"),
    "opportunity.created": _l("created the opportunity"),
    "opportunity.updated": _l("updated the opportunity"),
    "opportunity.stage_changed": _l("moved the opportunity to another stage"),
    "opportunity.deleted": _l("deleted the opportunity"),
    "product.created": _l("created the product"),
    "product.updated": _l("updated the product"),
    "product.deactivated": _l("deactivated the product"),
    "quote.created": _l("created the quote"),
    "quote.updated": _l("updated the quote"),
    "quote.sent": _l("sent the quote"),
    "quote.accepted": _l("marked the quote accepted"),
    "quote.rejected": _l("marked the quote rejected"),
    "quote.expired": _l("marked the quote expired"),
    "quote.superseded": _l("superseded the quote with a new version"),
    "quote.reissued": _l("re-issued the quote as a new version"),
    "work_report.created": _l("started a work report"),
    "work_report.updated": _l("updated a work report"),
    "work_report.submitted": _l("submitted a work report"),
    "work_report.deleted": _l("deleted a draft work report"),
    "work_report.commented": _l("commented on a work report"),
    "work_report.rules_changed": _l("changed the work-report rules"),
    "work_report.reminded": _l("reminded members of missing work reports"),
    "announcement.created": _l("wrote an announcement"),
    "announcement.updated": _l("changed an announcement"),
    "announcement.deleted": _l("deleted an announcement"),
    "announcement.published": _l("published an announcement to its audience"),
    "announcement.reminded": _l("reminded members to read an announcement"),
    "announcement.acknowledged": _l("acknowledged an announcement"),
    "kb_category.created": _l("created a knowledge-base category"),
    "kb_category.updated": _l("changed a knowledge-base category"),
    "kb_category.deleted": _l("deleted a knowledge-base category"),
    "kb_article.created": _l("wrote a knowledge-base article"),
    "kb_article.updated": _l("edited a knowledge-base article"),
    "kb_article.restored": _l("restored an earlier version of an article"),
    "kb_article.deleted": _l("deleted a knowledge-base article"),
    "kb_article.linked": _l("linked an article to a record"),
    "kb_article.unlinked": _l("removed an article's link"),
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
