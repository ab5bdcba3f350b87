"""Contracts (合同): payment plan adds up, status machine, four eyes, visibility, expiry run,
pages in both languages, PDF, 360° section, constant statement counts."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.contracts import services
from crm.contracts.models import Contract
from crm.db import db
from crm.sales.services import InvalidInput
from roles.checks import PermissionDenied
from tenants.models import Tenant
from tests import contract_factories as cf
from tests import quote_factories as qf
from tests import sales_factories as sf
from tests.contract_factories import D
from tests.helpers import html_lang, in_tenant, post, text_of


@pytest.fixture
def customer_a(app, tenant_a):
    return sf.customer(app, tenant_a["sales"], "上海百川科技有限公司", address="浦东新区 88 号", phone="021-12345678")


def _url(tenant, *parts, **query):
    from urllib.parse import urlencode

    path = "/".join(str(p) for p in ("", "w", tenant.slug, "sales", "contracts", *parts))
    return path + ("?" + urlencode(query) if query else "")


def _create_error(app, tenant, customer_id, **kw) -> dict[str, str]:
    with pytest.raises(InvalidInput) as err:
        cf.contract(app, tenant["sales"], customer_id, **kw)
    return err.value.errors


def _count(app, tenant_id) -> int:
    with in_tenant(app, tenant_id):
        return len(db.session.scalars(select(Contract.id)).all())


# ================================================================ the payment plan


def test_numbered_draft_with_a_plan_that_adds_up(app, tenant_a, customer_a):
    cid = cf.contract(app, tenant_a["sales"], customer_a, amount="100000.01", payments=cf.plan("33333.33", "66666.68"))
    c = cf.read(app, tenant_a.id, cid)
    assert c["number"] == "HT-2026-0001" and c["status"] == "draft"
    assert [p[1] for p in c["payments"]] == [D("33333.33"), D("66666.68")]
    assert cf.read(app, tenant_a.id, cf.contract(app, tenant_a["sales"], customer_a))["number"] == "HT-2026-0002"


def test_a_plan_one_fen_off_is_refused_and_nothing_is_saved(app, tenant_a, customer_a):
    errors = _create_error(app, tenant_a, customer_a, amount="100000.00", payments=cf.plan("50000.00", "49999.99"))
    assert set(errors) == {"payments"} and "0.01" in errors["payments"]
    assert _count(app, tenant_a.id) == 0


def test_each_bad_payment_row_is_named_by_its_number(app, tenant_a, customer_a):
    rows = [
        {"due_on": date(2026, 2, 1), "amount": "100.00"},
        {"due_on": None, "amount": "0"},
        {"due_on": "2026-13-01", "amount": "-5"},
        {"due_on": date(2026, 3, 1), "amount": "1.234"},
    ]
    errors = _create_error(app, tenant_a, customer_a, amount="100.00", payments=rows)
    assert set(errors) == {
        "payments.1.due_on", "payments.1.amount", "payments.2.due_on", "payments.2.amount", "payments.3.amount",
    }  # fmt: skip
    assert _count(app, tenant_a.id) == 0


def test_a_plan_needs_a_row_and_the_end_cannot_precede_the_start(app, tenant_a, customer_a):
    errors = _create_error(
        app, tenant_a, customer_a, payments=[], starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 30), title=" "
    )
    assert {"payments", "ends_on", "title"} <= set(errors)


def test_from_an_accepted_quote_keeps_the_links(app, tenant_a, customer_a):
    from tests import factories

    with in_tenant(app, tenant_a.id):
        rep = factories.member_row(tenant_a["sales"])
        opp_id = factories.make_opportunity(rep, customer_a, "年度运维商机").id
        db.session.commit()
    qid = qf.quote(app, tenant_a["sales"], customer_a, opportunity_id=opp_id)
    with in_tenant(app, tenant_a.id, tenant_a["sales"].user_id):
        from crm.quotes import services as quotes
        from crm.quotes.models import Quote

        rep = factories.member_row(tenant_a["sales"])
        q = db.session.get(Quote, qid)
        # A draft quote is not a deal yet.
        with pytest.raises(InvalidInput) as err:
            services.create_contract(rep, db.session.get(Tenant, tenant_a.id), q.customer,
                                     services.prefill_from_quote(q))  # fmt: skip
        assert "quote_id" in err.value.errors
        db.session.rollback()
        q = db.session.get(Quote, qid)
        quotes.send_quote(rep, q)
        quotes.set_outcome(rep, q, "accepted")
        data = services.prefill_from_quote(q)
        c = services.create_contract(rep, db.session.get(Tenant, tenant_a.id), q.customer, data)
        db.session.commit()
        assert (c.quote_id, c.opportunity_id, c.customer_id, c.amount) == (qid, opp_id, customer_a, q.total_incl)
        assert q.display_number in c.title and sum(p.amount for p in c.payments) == c.amount


# ================================================================ status machine and four eyes


def test_submit_notifies_the_managers_in_scope_and_approval_activates(app, tenant_a, customer_a):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    cf.act(app, tenant_a["sales"], cid, "submit")
    assert cf.read(app, tenant_a.id, cid)["status"] == "pending"
    for role in ("sales_manager", "admin", "owner"):
        assert len(cf.notes(app, tenant_a.id, tenant_a[role].id, "contract.submitted")) == 1, role
    assert cf.notes(app, tenant_a.id, tenant_a["finance"].id, "contract.submitted") == []
    cf.act(app, tenant_a["sales_manager"], cid, "approve")
    c = cf.read(app, tenant_a.id, cid)
    assert c["status"] == "active" and c["approved_by_id"] == tenant_a["sales_manager"].id
    assert [r[0] for r in c["reviews"]] == ["submitted", "approved"]
    assert len(cf.notes(app, tenant_a.id, tenant_a["sales"].id, "contract.approved")) == 1


def test_a_manager_outside_the_customers_team_is_neither_asked_nor_allowed(app, tenant_a, customer_a):
    other = sf.add_rep(app, tenant_a, "mgr2", "周敏", role="sales_manager")
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    cf.act(app, tenant_a["sales"], cid, "submit")
    assert cf.notes(app, tenant_a.id, other.id, "contract.submitted") == []
    with pytest.raises(PermissionDenied):
        cf.act(app, other, cid, "approve")
    assert cf.read(app, tenant_a.id, cid)["status"] == "pending"


def test_a_manager_may_not_approve_a_contract_they_submitted(app, tenant_a):
    cust = sf.customer(app, tenant_a["sales_manager"], "北京经理客户有限公司")
    cid = cf.contract(app, tenant_a["sales_manager"], cust)
    cf.act(app, tenant_a["sales_manager"], cid, "submit")
    with pytest.raises(services.SelfApproval):
        cf.act(app, tenant_a["sales_manager"], cid, "approve")
    assert cf.read(app, tenant_a.id, cid)["status"] == "pending"
    # An admin is the second pair of eyes.
    cf.act(app, tenant_a["admin"], cid, "approve")
    assert cf.read(app, tenant_a.id, cid)["status"] == "active"


def test_an_owner_may_approve_their_own(app, tenant_a):
    cust = sf.customer(app, tenant_a["owner"], "老板自己的客户")
    cid = cf.contract(app, tenant_a["owner"], cust)
    cf.act(app, tenant_a["owner"], cid, "submit")
    cf.act(app, tenant_a["owner"], cid, "approve")
    assert cf.read(app, tenant_a.id, cid)["status"] == "active"


def test_a_rep_cannot_approve(app, tenant_a, customer_a):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    cf.act(app, tenant_a["sales"], cid, "submit")
    with pytest.raises(PermissionDenied):
        cf.act(app, tenant_a["sales"], cid, "approve")


def test_reject_needs_a_comment_and_sends_the_draft_back(app, tenant_a, customer_a):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    cf.act(app, tenant_a["sales"], cid, "submit")
    with pytest.raises(InvalidInput) as err:
        cf.act(app, tenant_a["sales_manager"], cid, "reject", "  ")
    assert "comment" in err.value.errors and cf.read(app, tenant_a.id, cid)["status"] == "pending"
    cf.act(app, tenant_a["sales_manager"], cid, "reject", "付款比例请改为 3:7")
    c = cf.read(app, tenant_a.id, cid)
    assert c["status"] == "draft"
    assert c["reviews"][-1] == ("rejected", tenant_a["sales_manager"].id, "付款比例请改为 3:7")
    assert len(cf.notes(app, tenant_a.id, tenant_a["sales"].id, "contract.rejected")) == 1
    # Back in draft it can be fixed and submitted again.
    cf.act(app, tenant_a["sales"], cid, "submit")
    assert cf.read(app, tenant_a.id, cid)["status"] == "pending"


def test_terminate_needs_an_active_contract_and_a_reason(app, tenant_a, customer_a):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    with pytest.raises(InvalidInput):
        cf.act(app, tenant_a["sales"], cid, "terminate", "客户违约")  # a draft
    cf.act(app, tenant_a["sales"], cid, "submit")
    cf.act(app, tenant_a["sales_manager"], cid, "approve")
    with pytest.raises(InvalidInput) as err:
        cf.act(app, tenant_a["sales"], cid, "terminate", "")
    assert "reason" in err.value.errors
    cf.act(app, tenant_a["sales"], cid, "terminate", "客户违约")
    c = cf.read(app, tenant_a.id, cid)
    assert c["status"] == "terminated" and c["termination_reason"] == "客户违约"


def test_only_drafts_change_or_get_deleted(app, tenant_a, customer_a):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    cf.act(app, tenant_a["sales"], cid, "submit")
    with pytest.raises(InvalidInput):
        cf.act(app, tenant_a["sales"], cid, "update", cf.contract_input(title="改"))
    with pytest.raises(InvalidInput):
        cf.act(app, tenant_a["sales"], cid, "delete")
    assert cf.read(app, tenant_a.id, cid)["title"] == "年度运维服务合同"
    draft = cf.contract(app, tenant_a["sales"], customer_a)
    cf.act(app, tenant_a["sales"], draft, "delete")
    assert cf.read(app, tenant_a.id, draft) is None


def test_every_step_is_audited(app, tenant_a, customer_a):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    cf.act(app, tenant_a["sales"], cid, "update", cf.contract_input(title="新标题"))
    cf.act(app, tenant_a["sales"], cid, "submit")
    cf.act(app, tenant_a["sales_manager"], cid, "reject", "改")
    cf.act(app, tenant_a["sales"], cid, "submit")
    cf.act(app, tenant_a["sales_manager"], cid, "approve")
    cf.act(app, tenant_a["sales"], cid, "terminate", "提前终止")
    with in_tenant(app, tenant_a.id):
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "Contract").order_by(AuditEntry.id)
        )
        got = [(e.action, e.member_id) for e in rows]
    s, m = tenant_a["sales"].id, tenant_a["sales_manager"].id
    assert got == [
        ("contract.created", s), ("contract.updated", s), ("contract.submitted", s), ("contract.rejected", m),
        ("contract.submitted", s), ("contract.approved", m), ("contract.terminated", s),
    ]  # fmt: skip


# ================================================================ visibility


def test_a_rep_cannot_see_another_reps_contract_but_their_manager_can(app, tenant_a, customer_a, client_as):
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    c = client_as(other)
    for path in ("", "/edit", "/pdf"):
        assert c.get(_url(tenant_a, cid) + path).status_code == 404
    for action in ("submit", "delete", "terminate"):
        assert post(c, _url(tenant_a, cid, action)).status_code == 404
    assert cf.read(app, tenant_a.id, cid)["status"] == "draft"
    assert "HT-2026-0001" not in text_of(c.get(_url(tenant_a)))
    mgr = client_as(tenant_a["sales_manager"])
    assert mgr.get(_url(tenant_a, cid)).status_code == 200
    assert "HT-2026-0001" in text_of(mgr.get(_url(tenant_a)))


def test_a_collaborator_sees_the_customers_contracts(app, tenant_a, customer_a, client_as):
    other = sf.add_rep(app, tenant_a, "rep3", "钱多多")
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    sf.collaborate(app, tenant_a["sales"], customer_a, other, can_edit=False)
    c = client_as(other)
    page = text_of(c.get(_url(tenant_a, cid)))
    assert "年度运维服务合同" in page and "Submit for approval" not in page
    assert post(c, _url(tenant_a, cid, "submit")).status_code == 403


# ================================================================ expiry and reminders


def _activate(app, tenant, cid, ends_on: date) -> None:
    cf.act(app, tenant["sales"], cid, "submit")
    cf.act(app, tenant["sales_manager"], cid, "approve")
    cf.set_fields(app, tenant.id, cid, ends_on=ends_on)


def _run(app, tenant_id, today: date) -> dict[str, int]:
    with in_tenant(app, tenant_id):
        out = services.expire_and_remind(today)
        db.session.commit()
        return out


def test_past_end_expires_and_near_end_reminds_once(app, tenant_a, tenant_b, customer_a):
    today = date(2026, 6, 1)
    ended = cf.contract(app, tenant_a["sales"], customer_a)
    soon = cf.contract(app, tenant_a["sales"], customer_a)
    later = cf.contract(app, tenant_a["sales"], customer_a)
    _activate(app, tenant_a, ended, today - timedelta(days=1))
    _activate(app, tenant_a, soon, today + timedelta(days=30))
    _activate(app, tenant_a, later, today + timedelta(days=31))
    assert _run(app, tenant_a.id, today) == {"expired": 1, "reminded": 1}
    assert [cf.read(app, tenant_a.id, x)["status"] for x in (ended, soon, later)] == ["expired", "active", "active"]
    reminders = cf.notes(app, tenant_a.id, tenant_a["sales"].id, "contract.expiring")
    assert len(reminders) == 1 and "2026-07-01" in reminders[0]
    # The next day: nothing new for the same contract.
    assert _run(app, tenant_a.id, today + timedelta(days=1)) == {"expired": 0, "reminded": 1}  # `later` now due
    assert len(cf.notes(app, tenant_a.id, tenant_a["sales"].id, "contract.expiring")) == 2
    assert _run(app, tenant_a.id, today + timedelta(days=2)) == {"expired": 0, "reminded": 0}
    # Another workspace's run touches nothing here.
    assert _run(app, tenant_b.id, today + timedelta(days=400)) == {"expired": 0, "reminded": 0}


def test_redating_the_end_sends_the_reminder_again(app, tenant_a, customer_a):
    today = date(2026, 6, 1)
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    _activate(app, tenant_a, cid, today + timedelta(days=10))
    assert _run(app, tenant_a.id, today)["reminded"] == 1
    assert cf.read(app, tenant_a.id, cid)["expiry_reminded_at"] is not None
    cf.act(app, tenant_a["sales_manager"], cid, "change_end_date", today + timedelta(days=20))
    assert cf.read(app, tenant_a.id, cid)["expiry_reminded_at"] is None
    assert _run(app, tenant_a.id, today)["reminded"] == 1
    assert len(cf.notes(app, tenant_a.id, tenant_a["sales"].id, "contract.expiring")) == 2


def test_updating_a_drafts_end_clears_the_reminder_mark(app, tenant_a, customer_a):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    from crm.db import utcnow

    cf.set_fields(app, tenant_a.id, cid, expiry_reminded_at=utcnow())
    cf.act(app, tenant_a["sales"], cid, "update", cf.contract_input(ends_on=date(2027, 6, 30)))
    assert cf.read(app, tenant_a.id, cid)["expiry_reminded_at"] is None


def test_the_reminder_window_is_a_workspace_setting(app, tenant_a, customer_a):
    today = date(2026, 6, 1)
    with in_tenant(app, tenant_a.id):
        t = db.session.get(Tenant, tenant_a.id)
        t.settings = {**(t.settings or {}), "contracts": {"expiry_reminder_days": 7}}
        db.session.commit()
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    _activate(app, tenant_a, cid, today + timedelta(days=8))
    assert _run(app, tenant_a.id, today)["reminded"] == 0
    assert _run(app, tenant_a.id, today + timedelta(days=1))["reminded"] == 1


# ================================================================ pages


def test_form_creates_a_contract_with_its_plan(app, tenant_a, customer_a, client_as):
    c = client_as(tenant_a["sales"])
    assert "上海百川科技有限公司" in text_of(c.get(_url(tenant_a, "new", customer_id=customer_a)))
    r = post(
        c, _url(tenant_a, "new"),
        {"customer_id": customer_a, "title": "设备采购合同", "signed_on": "2026-03-01", "starts_on": "2026-03-01",
         "ends_on": "2027-02-28", "amount": "30,000.00", "terms": "验收后付尾款",
         "payments-0-due_on": "2026-03-15", "payments-0-amount": "9000", "payments-0-note": "预付款",
         "payments-1-due_on": "", "payments-1-amount": "", "payments-1-note": "",
         "payments-2-due_on": "2026-09-15", "payments-2-amount": "21000.00", "payments-2-note": "尾款"},
    )  # fmt: skip
    assert r.status_code == 302, text_of(r)
    with in_tenant(app, tenant_a.id):
        k = db.session.scalars(select(Contract)).one()
        assert k.amount == D("30000.00") and [(p.amount, p.note) for p in k.payments] == [
            (D("9000.00"), "预付款"), (D("21000.00"), "尾款"),
        ]  # fmt: skip
        cid = k.id
    page = text_of(c.get(_url(tenant_a, cid)))
    assert "设备采购合同" in page and "叁万元整" in page and 'data-testid="plan-total">¥ 30,000.00' in page


def test_form_errors_sit_beside_the_row_and_save_nothing(app, tenant_a, customer_a, client_as):
    c = client_as(tenant_a["sales"])
    r = post(
        c, _url(tenant_a, "new"),
        {"customer_id": customer_a, "title": "合同", "starts_on": "2026-03-01", "ends_on": "2026-12-31",
         "amount": "1000.00", "payments-0-due_on": "2026-03-15", "payments-0-amount": "abc",
         "payments-1-due_on": "2026-04-15", "payments-1-amount": "400"},
    )  # fmt: skip
    assert r.status_code == 400
    html = text_of(r)
    assert re.search(r'name="payments-0-amount"[^>]*is-invalid|is-invalid[^>]*name="payments-0-amount"', html)
    assert _count(app, tenant_a.id) == 0
    r = post(
        c, _url(tenant_a, "new"),
        {"customer_id": customer_a, "title": "合同", "starts_on": "2026-03-01", "ends_on": "2026-12-31",
         "amount": "1000.00", "payments-0-due_on": "2026-03-15", "payments-0-amount": "400"},
    )  # fmt: skip
    assert r.status_code == 400 and 'data-testid="plan-error"' in text_of(r) and "600.00" in text_of(r)
    assert _count(app, tenant_a.id) == 0


def test_the_accepted_quote_offers_a_contract_prefilled(app, tenant_a, customer_a, client_as):
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    c = client_as(tenant_a["sales"])
    assert 'data-testid="quote-to-contract"' not in text_of(c.get(f"/w/{tenant_a.slug}/sales/quotes/{qid}"))
    post(c, f"/w/{tenant_a.slug}/sales/quotes/{qid}/send")
    post(c, f"/w/{tenant_a.slug}/sales/quotes/{qid}/outcome", {"status": "accepted"})
    assert 'data-testid="quote-to-contract"' in text_of(c.get(f"/w/{tenant_a.slug}/sales/quotes/{qid}"))
    form = text_of(c.get(_url(tenant_a, "new", quote_id=qid)))
    assert 'value="1060.00"' in form and f'name="quote_id" type="hidden" value="{qid}"' in form


def test_review_buttons_follow_status_and_permission(app, tenant_a, customer_a, client_as):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    rep, mgr = client_as(tenant_a["sales"]), client_as(tenant_a["sales_manager"])
    page = text_of(rep.get(_url(tenant_a, cid)))
    assert "Submit for approval" in page and 'data-testid="review-panel"' not in page
    assert post(rep, _url(tenant_a, cid, "submit")).status_code == 302
    assert "Approve" not in text_of(rep.get(_url(tenant_a, cid)))
    assert post(rep, _url(tenant_a, cid, "approve")).status_code == 403
    assert 'formaction="' in text_of(mgr.get(_url(tenant_a, cid)))
    # Rejecting without a comment changes nothing; with one it does.
    post(mgr, _url(tenant_a, cid, "reject"), {"comment": ""})
    assert cf.read(app, tenant_a.id, cid)["status"] == "pending"
    post(mgr, _url(tenant_a, cid, "reject"), {"comment": "金额不对"})
    assert cf.read(app, tenant_a.id, cid)["status"] == "draft"
    assert "金额不对" in text_of(rep.get(_url(tenant_a, cid)))


@pytest.mark.parametrize(("accept", "lang"), [("en", "en"), ("zh-CN", "zh")])
def test_pages_render_in_both_languages(app, tenant_a, customer_a, client_as, accept, lang):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    c = client_as(tenant_a["sales"], Accept_Language=accept)
    for url in (_url(tenant_a), _url(tenant_a, cid), _url(tenant_a, cid, "edit"), _url(tenant_a, "new"),
                f"/w/{tenant_a.slug}/sales/customers/{customer_a}"):  # fmt: skip
        r = c.get(url)
        assert r.status_code == 200, url
        html = text_of(r)
        assert (html_lang(html) or "").startswith(lang), (url, html_lang(html))
        assert "HT-2026-0001" in html or url.endswith("/new"), url


def test_index_filters_and_empty_states(app, tenant_a, customer_a, client_as):
    c = client_as(tenant_a["sales"])
    assert "No contracts yet" in text_of(c.get(_url(tenant_a)))
    other = sf.customer(app, tenant_a["sales"], "深圳海纳贸易有限公司")
    a = cf.contract(app, tenant_a["sales"], customer_a)
    b = cf.contract(app, tenant_a["sales"], other)
    _activate(app, tenant_a, b, date.today() + timedelta(days=10))
    numbers = {x: cf.read(app, tenant_a.id, x)["number"] for x in (a, b)}

    def listed(**q):
        page = text_of(c.get(_url(tenant_a, **q)))
        return {x for x, n in numbers.items() if n in page}

    assert listed() == {a, b}
    assert listed(status="draft") == {a}
    assert listed(q="海纳") == {b}
    assert listed(expiring="1") == {b}
    assert listed(owner_id=tenant_a["sales"].id) == {a, b}
    assert listed(owner_id=tenant_a["owner"].id) == set()
    assert "No contracts match these filters" in text_of(c.get(_url(tenant_a, status="terminated")))


def test_the_customer_page_lists_its_contracts(app, tenant_a, customer_a, client_as):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    page = text_of(client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/customers/{customer_a}"))
    assert 'data-testid="customer-contracts"' in page and cf.read(app, tenant_a.id, cid)["number"] in page


def test_the_sidebar_links_contracts(app, tenant_a, client_as):
    page = text_of(client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/"))
    assert f'href="/w/{tenant_a.slug}/sales/contracts"' in page


# ================================================================ PDF


def test_pdf_shows_the_chinese_text_and_the_capital_amount(app, tenant_a, customer_a, client_as, tmp_path):
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    cid = cf.contract(app, tenant_a["sales"], customer_a, amount="12345.67", payments=cf.plan("2345.67", "10000.00"))
    r = client_as(tenant_a["sales"]).get(_url(tenant_a, cid, "pdf"))
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(r.data)
    out = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    squashed = re.sub(r"\s+", "", out)
    for expected in ("合同", "年度运维服务合同", "上海百川科技有限公司", "壹万贰仟叁佰肆拾伍元陆角柒分", "HT-2026-0001",
                     "回款计划", "第1期", "按季度验收", "甲方", "乙方", tenant_a.name.replace(" ", "")):  # fmt: skip
        assert expected in squashed, f"{expected} missing from the PDF text:\n{out}"


# ================================================================ statement counts


def _grow(app, tenant, customer_id, n: int) -> None:
    for i in range(n):
        cust = sf.customer(app, tenant["sales"], f"扩展客户{i}有限公司") if i % 2 else customer_id
        cf.contract(app, tenant["sales"], cust)


@pytest.mark.parametrize("page", ["index", "show", "customer"])
def test_pages_issue_a_constant_number_of_statements(app, tenant_a, customer_a, client_as, count_queries, page):
    cid = cf.contract(app, tenant_a["sales"], customer_a, payments=cf.plan("60000.00", "60000.00"))
    cf.act(app, tenant_a["sales"], cid, "submit")
    c = client_as(tenant_a["sales_manager"])
    url = {"index": _url(tenant_a), "show": _url(tenant_a, cid),
           "customer": f"/w/{tenant_a.slug}/sales/customers/{customer_a}"}[page]  # fmt: skip
    assert c.get(url).status_code == 200
    with count_queries() as small:
        assert c.get(url).status_code == 200
    _grow(app, tenant_a, customer_a, 6)
    cf.set_fields(app, tenant_a.id, cid, status="draft")
    cf.act(app, tenant_a["sales"], cid, "update", cf.contract_input(payments=cf.plan(*["10000.00"] * 12)))
    cf.act(app, tenant_a["sales"], cid, "submit")
    cf.act(app, tenant_a["sales_manager"], cid, "reject", "再改")
    cf.act(app, tenant_a["sales"], cid, "submit")
    with count_queries() as large:
        assert c.get(url).status_code == 200
    assert small.count == large.count, f"{url}: {small.count} vs {large.count}\n" + "\n".join(large.statements)


def test_an_active_contract_becomes_an_order_and_lists_it(app, tenant_a, customer_a, client_as):
    from tests import order_factories as of

    cid = cf.contract(app, tenant_a["sales"], customer_a)
    client = client_as(tenant_a["sales"])
    draft_page = client.get(f"/w/{tenant_a.slug}/sales/contracts/{cid}").get_data(as_text=True)
    assert 'data-testid="create-order"' not in draft_page  # only an approved contract is sold
    cf.act(app, tenant_a["sales"], cid, "submit")
    cf.act(app, tenant_a["sales_manager"], cid, "approve")
    page = client.get(f"/w/{tenant_a.slug}/sales/contracts/{cid}").get_data(as_text=True)
    assert f"/sales/orders/new?contract_id={cid}" in page
    form = client.get(f"/w/{tenant_a.slug}/sales/orders/new?contract_id={cid}")
    assert form.status_code == 200 and "年度运维服务合同" in form.get_data(as_text=True)
    oid = of.order(app, tenant_a["sales"], customer_a, contract_id=cid)
    page = client.get(f"/w/{tenant_a.slug}/sales/contracts/{cid}").get_data(as_text=True)
    number = of.read_order(app, tenant_a.id, oid)["number"]
    assert 'data-testid="contract-orders"' in page and number in page
