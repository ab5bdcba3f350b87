"""Knowledge base rules: who sees what, saving with compare-and-swap, versions, diffs, search, links.

Visibility: a category is readable when it and every ancestor admit one of the member's roles
(an empty role list admits everyone); kb.manage sees every category and drafts. An article is
readable when its category is, and — for members without kb.manage — when it is published.

Saving is a compare-and-swap on ``version``: ``UPDATE kb_articles … WHERE id = :id AND version
= :base``. Of two saves that started from the same version exactly one matches a row (on
PostgreSQL the second waits for the first's row lock, then re-checks the WHERE against the new
row and finds nothing); the loser gets EditConflict with both changes and saves nothing.

Services take (actor, …), check permission, flush and audit; the caller commits.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from crm.attachments import services as attachments
from crm.audit.services import record
from crm.db import db, utcnow
from crm.kb.models import LINK_TYPES, STATUSES, KbArticle, KbArticleVersion, KbCategory, KbLink
from crm.markdown import plain_text
from crm.pipeline.models import Opportunity
from crm.sales import rules
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit, can_read
from roles.catalogue import ROLE_NAMES
from roles.checks import PermissionDenied, can, ensure
from tenants.models import Membership
from tenants.search_sql import array_contains, icontains, like_escape

MAX_DEPTH = 6
MAX_BODY = 200_000


class EditConflict(Exception):
    """Someone saved the article after the editor opened it; nothing was written."""

    def __init__(self, article: KbArticle, base: KbArticleVersion | None, title: str, body: str) -> None:
        super().__init__("edit conflict")
        self.article = article
        self.base = base
        self.title = title
        self.body = body

    @property
    def base_text(self) -> str:
        return document(self.base.title, self.base.body) if self.base is not None else ""

    @property
    def theirs(self) -> list[DiffLine]:
        return diff_lines(self.base_text, document(self.article.title, self.article.body))

    @property
    def yours(self) -> list[DiffLine]:
        return diff_lines(self.base_text, document(self.title, self.body))


# ---------------------------------------------------------------- visibility


def can_manage(member: Membership | None) -> bool:
    return can(member, "kb.manage")


def all_categories() -> list[KbCategory]:
    return list(db.session.scalars(select(KbCategory).order_by(KbCategory.position, KbCategory.name, KbCategory.id)))


def visible_category_ids(member: Membership, categories: list[KbCategory] | None = None) -> set[int]:
    """Ids of the categories this member may read (one statement, or none given the list)."""
    cats = categories if categories is not None else all_categories()
    if can_manage(member):
        return {c.id for c in cats}
    if not can(member, "office.access"):
        return set()
    by_id = {c.id: c for c in cats}
    mine = set(member.roles or [])
    out: set[int] = set()
    for c in cats:
        node: KbCategory | None = c
        ok, depth = True, 0
        while node is not None and depth <= MAX_DEPTH + 1:
            if node.roles and not mine.intersection(node.roles):
                ok = False
                break
            node = by_id.get(node.parent_id) if node.parent_id is not None else None
            depth += 1
        if ok:
            out.add(c.id)
    return out


def article_filter(member: Membership, visible: set[int] | None = None) -> Any:
    ids = visible if visible is not None else visible_category_ids(member)
    cond = KbArticle.category_id.in_(sorted(ids))
    if not can_manage(member):
        cond = and_(cond, KbArticle.status == "published")
    return cond


def can_read_article(member: Membership, article: KbArticle) -> bool:
    if not can(member, "office.access"):
        return False
    if article.status != "published" and not can_manage(member):
        return False
    return article.category_id in visible_category_ids(member)


def category_tree(categories: list[KbCategory]) -> list[tuple[KbCategory, int]]:
    """Depth-first (category, depth) pairs in display order."""
    children: dict[int | None, list[KbCategory]] = {}
    ids = {c.id for c in categories}
    for c in categories:
        children.setdefault(c.parent_id if c.parent_id in ids else None, []).append(c)
    out: list[tuple[KbCategory, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in children.get(parent, []):
            out.append((c, depth))
            walk(c.id, depth + 1)

    walk(None, 0)
    return out


def _reader(member: Membership, article_id: int) -> bool:
    a = db.session.scalars(select(KbArticle).where(KbArticle.id == article_id)).one_or_none()
    return a is not None and can_read_article(member, a)


attachments.register_owner("kb_article", _reader)


# ---------------------------------------------------------------- categories


def _clean_roles(roles: list[str] | None) -> list[str]:
    out = sorted({r for r in roles or [] if r})
    bad = [r for r in out if r not in ROLE_NAMES]
    if bad:
        raise InvalidInput({"roles": _("Unknown role: %(role)s.", role=", ".join(bad))})
    return out


def _check_parent(category: KbCategory | None, parent_id: int | None) -> None:
    if parent_id is None:
        return
    cats = {c.id: c for c in all_categories()}
    if parent_id not in cats:
        raise InvalidInput({"parent_id": _("No such category.")})
    node: int | None = parent_id
    depth = 0
    while node is not None:
        if category is not None and node == category.id:
            raise InvalidInput({"parent_id": _("A category cannot be placed inside itself.")})
        node = cats[node].parent_id if node in cats else None
        depth += 1
    if depth >= MAX_DEPTH:
        raise InvalidInput({"parent_id": _("Categories nest at most %(n)d levels deep.", n=MAX_DEPTH)})


def save_category(actor: Membership, values: dict[str, Any], category: KbCategory | None = None) -> KbCategory:
    ensure(actor, "kb.manage")
    fields = set(values)
    name = (values.get("name") if "name" in fields else (category.name if category else "")) or ""
    name = name.strip()
    if not name:
        raise InvalidInput({"name": _("Give the category a name.")})
    if len(name) > 100:
        raise InvalidInput({"name": _("At most 100 characters.")})
    parent_id = values.get("parent_id") if "parent_id" in fields else (category.parent_id if category else None)
    _check_parent(category, parent_id)
    roles = _clean_roles(values.get("roles")) if "roles" in fields else (category.roles if category else [])
    position = values.get("position") if "position" in fields else (category.position if category else 0)
    try:
        position = int(position or 0)
    except (TypeError, ValueError):
        raise InvalidInput({"position": _("Enter a whole number.")}) from None
    created = category is None
    if category is None:
        category = KbCategory()
        db.session.add(category)
    category.name, category.parent_id, category.roles, category.position = name, parent_id, roles, position
    db.session.flush()
    record("kb_category.created" if created else "kb_category.updated", category, actor=actor, summary=name)
    return category


def delete_category(actor: Membership, category: KbCategory) -> None:
    ensure(actor, "kb.manage")
    has_child = db.session.scalar(select(func.count()).where(KbCategory.parent_id == category.id))
    has_article = db.session.scalar(select(func.count()).where(KbArticle.category_id == category.id))
    if has_child or has_article:
        raise InvalidInput(
            {"category": _("Only an empty category can be deleted: move its articles and sub-categories first.")}
        )
    record("kb_category.deleted", category, actor=actor, summary=category.name)
    db.session.delete(category)
    db.session.flush()


# ---------------------------------------------------------------- articles


def normalise_tags(raw: str | list[str] | None) -> str:
    items = raw if isinstance(raw, list) else (raw or "").replace("，", ",").split(",")
    tags: list[str] = []
    for t in items:
        t = rules.fold_width(str(t)).strip().lower()
        if t and t not in tags:
            tags.append(t[:40])
    joined = "," + ",".join(tags) + "," if tags else ""
    if len(joined) > 500:
        raise InvalidInput({"tags": _("Too many tags.")})
    return joined


def document(title: str, body: str) -> str:
    """What a diff compares: the title, a blank line, the body."""
    return f"{title}\n\n{body or ''}"


@dataclass
class ArticleInput:
    title: str | None = None
    body: str | None = None
    category_id: int | None = None
    status: str | None = None
    tags: str | list[str] | None = None
    note: str | None = None
    fields_sent: set[str] = field(default_factory=set)


def _validate(actor: Membership, a: ArticleInput, current: KbArticle | None) -> dict[str, Any]:
    sent = a.fields_sent or {"title", "body", "category_id", "status", "tags"}
    title = (a.title if "title" in sent else (current.title if current else "")) or ""
    body = (a.body if "body" in sent else (current.body if current else "")) or ""
    category_id = a.category_id if "category_id" in sent else (current.category_id if current else None)
    status = (a.status if "status" in sent else (current.status if current else "draft")) or "draft"
    errors: dict[str, str] = {}
    title = title.strip()
    if not title:
        errors["title"] = _("Give the article a title.")
    elif len(title) > 200:
        errors["title"] = _("At most 200 characters.")
    if len(body) > MAX_BODY:
        errors["body"] = _("The article is too long.")
    if status not in STATUSES:
        errors["status"] = _("Choose draft or published.")
    if category_id is None or category_id not in visible_category_ids(actor):
        errors["category_id"] = _("Choose a category.")
    tags = current.tags if current else ""
    if "tags" in sent:
        try:
            tags = normalise_tags(a.tags)
        except InvalidInput as err:
            errors.update(err.errors)
    if errors:
        raise InvalidInput(errors)
    return {
        "title": title,
        "body": body.replace("\r\n", "\n"),
        "category_id": category_id,
        "status": status,
        "tags": tags,
    }


def _search_keys(title: str, body: str) -> list[str]:
    return rules.bigrams(f"{title} {plain_text(body, limit=MAX_BODY)}")


def _add_version(article: KbArticle, actor: Membership, note: str | None) -> KbArticleVersion:
    v = KbArticleVersion(
        article_id=article.id, version=article.version, title=article.title, body=article.body,
        editor_id=actor.id, note=(note or "").strip()[:200] or None,
    )  # fmt: skip
    db.session.add(v)
    return v


def create_article(actor: Membership, data: ArticleInput) -> KbArticle:
    ensure(actor, "kb.manage")
    v = _validate(actor, data, None)
    now = utcnow()
    a = KbArticle(
        **v, author_id=actor.id, last_editor_id=actor.id, version=1,
        published_at=now if v["status"] == "published" else None, search_bigrams=_search_keys(v["title"], v["body"]),
    )  # fmt: skip
    db.session.add(a)
    db.session.flush()
    _add_version(a, actor, data.note)
    db.session.flush()
    record("kb_article.created", a, actor=actor, summary=a.title)
    return a


def version_row(article: KbArticle, version: int) -> KbArticleVersion | None:
    return db.session.scalars(
        select(KbArticleVersion).where(KbArticleVersion.article_id == article.id, KbArticleVersion.version == version)
    ).one_or_none()


def update_article(actor: Membership, article: KbArticle, data: ArticleInput, base_version: int | None) -> KbArticle:
    """Save on top of ``base_version`` (the version the editor started from); EditConflict when
    someone saved since. ``base_version`` None means "on top of whatever is current" (API callers
    that do not care; the UI always sends it)."""
    ensure(actor, "kb.manage")
    v = _validate(actor, data, article)
    base = article.version if base_version is None else base_version
    if all(getattr(article, k) == val for k, val in v.items()):
        return article  # nothing changed: no new version
    now = utcnow()
    values = {
        **v, "version": base + 1, "last_editor_id": actor.id, "updated_at": now,
        "search_bigrams": _search_keys(v["title"], v["body"]),
    }  # fmt: skip
    if v["status"] == "published" and article.published_at is None:
        values["published_at"] = now
    result = db.session.execute(
        update(KbArticle).where(KbArticle.id == article.id, KbArticle.version == base).values(**values),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        db.session.refresh(article)
        raise EditConflict(article, version_row(article, base), v["title"], v["body"])
    db.session.refresh(article)
    _add_version(article, actor, data.note)
    db.session.flush()
    record("kb_article.updated", article, actor=actor, summary=f"{article.title} · v{article.version}")
    return article


def restore_version(actor: Membership, article: KbArticle, version: int) -> KbArticle:
    ensure(actor, "kb.manage")
    old = version_row(article, version)
    if old is None:
        raise InvalidInput({"version": _("No such version.")})
    data = ArticleInput(
        title=old.title, body=old.body, note=_("Restored version %(n)d", n=version), fields_sent={"title", "body"}
    )
    update_article(actor, article, data, article.version)
    record("kb_article.restored", article, actor=actor, summary=f"{article.title} · v{version} → v{article.version}")
    return article


def delete_article(actor: Membership, article: KbArticle) -> None:
    ensure(actor, "kb.manage")
    attachments.delete_for(actor, "kb_article", article.id)
    record("kb_article.deleted", article, actor=actor, summary=article.title)
    db.session.delete(article)
    db.session.flush()


def versions_of(article: KbArticle) -> list[KbArticleVersion]:
    return list(
        db.session.scalars(
            select(KbArticleVersion)
            .where(KbArticleVersion.article_id == article.id)
            .options(selectinload(KbArticleVersion.editor).selectinload(Membership.user))
            .order_by(KbArticleVersion.version.desc())
        )
    )


# ---------------------------------------------------------------- diffs


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "ctx", "hunk", "head"
    text: str


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """A unified diff as lines to render (the template escapes the text)."""
    out: list[DiffLine] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            out.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            out.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            out.append(DiffLine("del", line[1:]))
        else:
            out.append(DiffLine("ctx", line[1:]))
    return out


def diff_text(lines: list[DiffLine]) -> str:
    marks = {"add": "+", "del": "-", "ctx": " ", "hunk": "", "head": ""}
    return "\n".join(marks[d.kind] + d.text for d in lines)


def diff_versions(article: KbArticle, a: int, b: int) -> list[DiffLine]:
    va, vb = version_row(article, a), version_row(article, b)
    if va is None or vb is None:
        raise InvalidInput({"version": _("No such version.")})
    return diff_lines(document(va.title, va.body), document(vb.title, vb.body))


# ---------------------------------------------------------------- listing and search


def search_condition(q: str, dialect: str) -> Any:
    """Title or body contains q. Chinese terms on PostgreSQL go through the bigram GIN index
    first (two-character words have no trigram), then the leakproof ILIKE checks adjacency;
    other terms use the trigram indexes on title and body. SQLite: LIKE."""
    q = rules.fold_width(q).strip()
    text_match = or_(icontains(KbArticle.title, q), icontains(KbArticle.body, q))
    if rules.has_cjk(q) and dialect == "postgresql":
        grams = [g for g in rules.bigrams(q) if len(g) == 2]
        if grams:
            return and_(array_contains(KbArticle.search_bigrams, grams), text_match)
    return text_match


@dataclass
class ArticleQuery:
    q: str | None = None
    category_id: int | None = None
    tag: str | None = None
    status: str | None = None
    page: int = 1
    page_size: int = 50


def list_articles(
    member: Membership, query: ArticleQuery, visible: set[int] | None = None
) -> tuple[list[KbArticle], int]:
    if not can(member, "office.access"):
        raise PermissionDenied("office.access")
    conds = [article_filter(member, visible)]
    if query.q and query.q.strip():
        conds.append(search_condition(query.q, db.session.get_bind().dialect.name))
    if query.category_id is not None:
        conds.append(KbArticle.category_id == query.category_id)
    if query.tag:
        tag = normalise_tags(query.tag).strip(",").split(",")[0] if normalise_tags(query.tag) else ""
        conds.append(KbArticle.tags.like(f"%,{like_escape(tag)},%", escape="\\"))
    if query.status in STATUSES:
        conds.append(KbArticle.status == query.status)
    total = db.session.scalar(select(func.count(KbArticle.id)).where(*conds)) or 0
    rows = list(
        db.session.scalars(
            select(KbArticle)
            .where(*conds)
            .options(selectinload(KbArticle.last_editor).selectinload(Membership.user))
            .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
            .limit(query.page_size)
            .offset((max(query.page, 1) - 1) * query.page_size)
        )
    )
    return rows, total


# ---------------------------------------------------------------- links


def _target(actor: Membership, object_type: str, object_id: int) -> Customer | None:
    """The customer a link is made on (an opportunity's customer), when the actor may edit it."""
    if object_type == "customer":
        customer = db.session.scalars(select(Customer).where(Customer.id == object_id)).one_or_none()
    elif object_type == "opportunity":
        opp = db.session.scalars(select(Opportunity).where(Opportunity.id == object_id)).one_or_none()
        customer = opp.customer if opp is not None else None
    else:
        raise InvalidInput({"object_type": _("Link to a customer or an opportunity.")})
    if customer is None or not can_read(actor, customer):
        raise InvalidInput({"object_id": _("No such record.")})
    return customer


def can_link(actor: Membership, object_type: str, object_id: int) -> bool:
    try:
        customer = _target(actor, object_type, object_id)
    except InvalidInput:
        return False
    return customer is not None and can_edit(actor, customer)


def add_link(actor: Membership, article: KbArticle, object_type: str, object_id: int) -> KbLink:
    if object_type not in LINK_TYPES:
        raise InvalidInput({"object_type": _("Link to a customer or an opportunity.")})
    if not can_read_article(actor, article):
        raise InvalidInput({"article_id": _("No such article.")})
    customer = _target(actor, object_type, object_id)
    if customer is None or not can_edit(actor, customer):
        raise PermissionDenied("sales.access")
    existing = db.session.scalars(
        select(KbLink).where(
            KbLink.article_id == article.id, KbLink.object_type == object_type, KbLink.object_id == object_id
        )
    ).one_or_none()
    if existing is not None:
        return existing
    link = KbLink(article_id=article.id, object_type=object_type, object_id=object_id, created_by_id=actor.id)
    db.session.add(link)
    db.session.flush()
    record("kb_article.linked", article, actor=actor, summary=f"{article.title} → {object_type} {object_id}")
    return link


def remove_link(actor: Membership, link: KbLink) -> None:
    if not can_link(actor, link.object_type, link.object_id):
        raise PermissionDenied("sales.access")
    record("kb_article.unlinked", link.article, actor=actor, summary=f"{link.object_type} {link.object_id}")
    db.session.delete(link)
    db.session.flush()


def linked_articles(
    member: Membership, object_type: str, object_id: int, visible: set[int] | None = None
) -> list[tuple[KbLink, KbArticle]]:
    """The visible articles linked to a record (one statement, plus one for the categories unless given)."""
    visible = visible if visible is not None else visible_category_ids(member)
    rows = db.session.execute(
        select(KbLink, KbArticle)
        .join(KbArticle, KbArticle.id == KbLink.article_id)
        .where(KbLink.object_type == object_type, KbLink.object_id == object_id, article_filter(member, visible))
        .order_by(KbArticle.title)
    ).all()
    return [(r[0], r[1]) for r in rows]


def link_options(
    member: Membership, exclude: set[int], visible: set[int] | None = None, limit: int = 200
) -> list[KbArticle]:
    rows = db.session.scalars(
        select(KbArticle)
        .where(article_filter(member, visible), KbArticle.status == "published")
        .order_by(KbArticle.title)
        .limit(limit + len(exclude))
    )
    return [a for a in rows if a.id not in exclude][:limit]


def can_link_read(member: Membership, link: KbLink) -> bool:
    """The member may see the record a link points at."""
    try:
        return _target(member, link.object_type, link.object_id) is not None
    except InvalidInput:
        return False
