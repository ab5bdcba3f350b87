"""/api/v1/expense-claims and /api/v1/advances: a claim from filing to payment with its entry,
the self-approval refusal at each step with its rule, bad input by field, set-off against an
advance, who sees what, and a constant number of statements on the lists."""

from __future__ import annotations

import pytest

from crm.db import db
from crm.expenses import services
from tenants.models import Membership, Tenant
from tests.area_expenses import make_claim
from tests.books_factories import setup_books
from tests.helpers import ApiClient, in_tenant


@pytest.fixture
def books_a(app, tenant_a):
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        setup_books(db.session.get(Tenant, tenant_a.id))
        db.session.commit()
    return tenant_a


@pytest.fixture
def api(client, token_for):
    def _api(member):
        return ApiClient(client, token_for(member))

    return _api


def _categories(c) -> dict[str, int]:
    r = c.get("/expense-categories")
    assert r.status_code == 200
    return {x["key"]: x["id"] for x in r.json}


def _body(cats, amount="200.00", **extra):
    body = {"title": "客户拜访", "lines": [
        {"date": "2026-03-02", "category_id": cats["transport"], "amount": amount, "description": "出租车"},
    ]}  # fmt: skip
    body.update(extra)
    return body


def test_a_claim_goes_from_filing_to_payment_through_the_api(app, books_a, api):
    t = books_a
    rep, boss, fin = api(t["sales"]), api(t["sales_manager"]), api(t["finance"])
    cats = _categories(rep)
    r = rep.post("/expense-claims", _body(cats))
    assert r.status_code == 201, r.json
    cid = r.json["id"]
    assert r.json["status"] == "draft" and r.json["total"] == "200.00" and r.json["timeline"][0]["action"] == "created"
    assert rep.post(f"/expense-claims/{cid}/submit").json["status"] == "submitted"
    assert boss.post(f"/expense-claims/{cid}/approve").json["status"] == "approved"
    assert fin.post(f"/expense-claims/{cid}/review").json["status"] == "reviewed"
    r = fin.post(f"/expense-claims/{cid}/pay", {"date": "2026-03-10"})
    assert r.status_code == 200 and r.json["status"] == "paid" and r.json["entry_id"]
    assert [e["action"] for e in rep.get(f"/expense-claims/{cid}").json["timeline"]] == [
        "created", "submitted", "approved", "reviewed", "paid", "posted",
    ]  # fmt: skip
    entry = fin.get(f"/journal-entries/{r.json['entry_id']}").json
    assert entry["status"] == "posted"
    assert sum(float(x["debit"]) for x in entry["lines"]) == sum(float(x["credit"]) for x in entry["lines"]) == 200.0


def test_each_step_on_ones_own_claim_is_refused_with_the_self_approval_rule(app, books_a, api):
    t = books_a
    fin, owner = api(t["finance"]), api(t["owner"])
    cid = fin.post("/expense-claims", _body(_categories(fin))).json["id"]
    fin.post(f"/expense-claims/{cid}/submit")
    for step, body in (("approve", None), ("reject", {"comment": "x"})):
        r = fin.post(f"/expense-claims/{cid}/{step}", body)
        assert r.status_code == 422 and r.json["rule"] == "self_approval", step
    owner.post(f"/expense-claims/{cid}/approve")
    r = fin.post(f"/expense-claims/{cid}/review")
    assert r.status_code == 422 and r.json["rule"] == "self_approval"
    owner.post(f"/expense-claims/{cid}/review")
    r = fin.post(f"/expense-claims/{cid}/pay")
    assert r.status_code == 422 and r.json["rule"] == "self_approval"
    assert fin.get(f"/expense-claims/{cid}").json["status"] == "reviewed"


def test_bad_input_answers_each_field_and_writes_nothing(app, books_a, api, raw_rows):
    t = books_a
    rep = api(t["sales"])
    cats = _categories(rep)
    r = rep.post("/expense-claims", {"title": "", "lines": [
        {"date": "2026-03-02", "category_id": cats["office"], "amount": "-5", "description": ""},
    ]})  # fmt: skip
    assert r.status_code == 422
    errors = r.json["errors"]["json"]
    assert {"title", "lines.0.amount", "lines.0.description"} <= set(errors)
    assert raw_rows("expense_claims") == []
    r = rep.post("/advances", {"amount": "0", "purpose": ""})
    assert r.status_code == 422 and {"amount", "purpose"} <= set(r.json["errors"]["json"])


def test_a_rejected_claim_is_patched_and_submitted_again(app, books_a, api):
    t = books_a
    rep, boss = api(t["sales"]), api(t["sales_manager"])
    cats = _categories(rep)
    cid = rep.post("/expense-claims", _body(cats)).json["id"]
    rep.post(f"/expense-claims/{cid}/submit")
    r = boss.post(f"/expense-claims/{cid}/reject", {})
    assert r.status_code == 422 and "comment" in r.json["errors"]["json"]
    r = boss.post(f"/expense-claims/{cid}/reject", {"comment": "金额不对"})
    assert r.json["status"] == "rejected" and r.json["comment"] == "金额不对"
    r = rep.patch(f"/expense-claims/{cid}", {"lines": [dict(_body(cats)["lines"][0], amount="150.00")]})
    assert r.status_code == 200 and r.json["total"] == "150.00"
    assert rep.post(f"/expense-claims/{cid}/submit").json["status"] == "submitted"
    assert rep.patch(f"/expense-claims/{cid}", {"title": "x"}).json["rule"] == "locked"


def test_an_advance_is_paid_and_a_claim_set_off_against_it(app, books_a, api):
    t = books_a
    rep, boss, fin = api(t["sales"]), api(t["sales_manager"]), api(t["finance"])
    aid = rep.post("/advances", {"amount": "500.00", "purpose": "出差备用金"}).json["id"]
    assert fin.post(f"/advances/{aid}/pay").json["rule"] == "wrong_status"
    assert boss.post(f"/advances/{aid}/approve").json["status"] == "approved"
    r = fin.post(f"/advances/{aid}/pay", {"date": "2026-03-05"})
    assert r.json["status"] == "paid" and r.json["open_amount"] == "500.00"
    cid = rep.post("/expense-claims", _body(_categories(rep), amount="320.00", advance_id=aid)).json["id"]
    rep.post(f"/expense-claims/{cid}/submit")
    boss.post(f"/expense-claims/{cid}/approve")
    fin.post(f"/expense-claims/{cid}/review")
    r = fin.post(f"/expense-claims/{cid}/pay", {"date": "2026-03-10"})
    assert r.json["advance_offset"] == "320.00"
    assert rep.get(f"/advances/{aid}").json["open_amount"] == "180.00"
    assert fin.post(f"/advances/{aid}/repay", {}).json["errors"]["json"].keys() == {"amount"}
    r = fin.post(f"/advances/{aid}/repay", {"amount": "180.00", "date": "2026-03-12"})
    assert r.status_code == 200 and (r.json["status"], r.json["open_amount"]) == ("settled", "0.00")


def test_members_see_their_own_their_teams_and_finance_sees_all(app, books_a, api):
    t = books_a
    with in_tenant(app, t.id, t["owner"].user_id):
        make_claim(db.session.get(Membership, t["sales"].id))
        make_claim(db.session.get(Membership, t["finance"].id))
        db.session.commit()
    count = {role: len(api(t[role]).get("/expense-claims").json) for role in ("sales", "sales_manager", "finance")}
    assert count == {"sales": 1, "sales_manager": 1, "finance": 2}
    rep_claim = api(t["sales"]).get("/expense-claims").json[0]["id"]
    fin_claim = next(x["id"] for x in api(t["finance"]).get("/expense-claims").json if x["id"] != rep_claim)
    assert api(t["sales"]).get(f"/expense-claims/{fin_claim}").status_code == 403


def test_another_workspaces_claim_and_advance_are_404(app, books_a, tenant_b, api):
    t = books_a
    with in_tenant(app, t.id, t["owner"].user_id):
        rep = db.session.get(Membership, t["sales"].id)
        claim = make_claim(rep)
        adv = services.request_advance(db.session.get(Tenant, t.id), rep, {"amount": "5", "purpose": "x"})
        ids = claim.id, adv.id
        db.session.commit()
    outsider = api(tenant_b["owner"])
    assert outsider.get(f"/expense-claims/{ids[0]}").status_code == 404
    assert outsider.post(f"/expense-claims/{ids[0]}/approve").status_code == 404
    assert outsider.get(f"/advances/{ids[1]}").status_code == 404
    assert outsider.get("/expense-claims").json == []


def test_the_claims_list_issues_the_same_number_of_statements_for_1_or_11_claims(app, books_a, api, count_queries):
    t = books_a
    fin = api(t["finance"])

    def add(n):
        with in_tenant(app, t.id, t["owner"].user_id):
            rep = db.session.get(Membership, t["sales"].id)
            for i in range(n):
                make_claim(rep, amount=f"{i + 1}.00")
            db.session.commit()

    add(1)
    fin.get("/expense-claims")
    with count_queries() as small:
        assert len(fin.get("/expense-claims").json) == 1
    add(10)
    with count_queries() as big:
        assert len(fin.get("/expense-claims").json) == 11
    assert big.count == small.count


def test_a_receipt_is_uploaded_through_the_api_and_checked(app, books_a, api, client, token_for):
    import io

    from tests.helpers import bearer

    t = books_a
    rep = api(t["sales"])
    body = rep.post("/expense-claims", _body(_categories(rep))).json
    url = f"/api/v1/expense-claims/{body['id']}/lines/{body['lines'][0]['id']}/receipt"
    h = bearer(token_for(t["sales"]))
    bad = client.post(
        url, data={"receipt": (io.BytesIO(b"hello"), "a.txt")}, headers=h, content_type="multipart/form-data"
    )
    assert bad.status_code == 422 and "receipt" in bad.json["errors"]["json"]
    ok = client.post(url, data={"receipt": (io.BytesIO(b"\xff\xd8\xff\xe0 jpeg"), "票.jpg")}, headers=h,
                     content_type="multipart/form-data")  # fmt: skip
    assert ok.status_code == 200 and ok.json["lines"][0]["attachment_id"]
    boss = bearer(token_for(t["sales_manager"]))
    again = client.post(url, data={"receipt": (io.BytesIO(b"%PDF-1.4"), "x.pdf")}, headers=boss,
                        content_type="multipart/form-data")  # fmt: skip
    assert again.status_code == 403  # only the claimant attaches
