"""/api/v1: bearer tokens, the same permissions and tenant walls as the UI, OpenAPI from code."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from crm.api.models import ApiToken
from crm.db import db
from tenants.context import current_tenant_id, current_user_id
from tenants.models import Membership
from tests import factories
from tests.helpers import bearer, in_tenant

# ---------------------------------------------------------------- authentication


def test_me_with_a_token(client, tenant_a, token_for):
    r = client.get("/api/v1/me", headers=bearer(token_for(tenant_a["sales_manager"])))
    assert r.status_code == 200
    body = r.get_json()
    assert body["member_id"] == tenant_a["sales_manager"].id
    assert body["email"] == tenant_a["sales_manager"].email
    assert body["name"] == "张伟"
    assert body["roles"] == ["sales_manager"]
    assert body["scope"] == "team"
    assert "members.export" in body["permissions"] and "members.manage" not in body["permissions"]
    assert body["workspace"]["slug"] == tenant_a.slug


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer tzk_1_forged", "Bearer tzk_999_x"],
)
def test_missing_or_invalid_token_is_401_json(client, tenant_a, header):
    headers = {"Authorization": header} if header else {}
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.is_json and r.get_json()["code"] == 401


def test_token_of_another_tenant_with_forged_prefix_is_401(client, tenant_a, tenant_b, token_for):
    """A's token with B's tenant id spliced into the prefix is looked up in B: unknown."""
    plain = token_for(tenant_a["owner"])
    forged = plain.replace(f"tzk_{tenant_a.id}_", f"tzk_{tenant_b.id}_", 1)
    assert client.get("/api/v1/me", headers=bearer(forged)).status_code == 401


def test_revoked_token_is_401(app, client, tenant_a, token_for):
    plain = token_for(tenant_a["owner"])
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 200
    with in_tenant(app, tenant_a.id):
        from crm.api.tokens import revoke_token

        token = db.session.scalars(select(ApiToken)).one()
        revoke_token(db.session.get(Membership, tenant_a["owner"].id), token)
        db.session.commit()
    r = client.get("/api/v1/me", headers=bearer(plain))
    assert r.status_code == 401 and r.is_json


def test_deactivated_members_token_is_401(app, client, tenant_a, token_for):
    plain = token_for(tenant_a["sales"])
    with in_tenant(app, tenant_a.id):
        db.session.get(Membership, tenant_a["sales"].id).is_active = False
        db.session.commit()
    r = client.get("/api/v1/me", headers=bearer(plain))
    assert r.status_code == 401 and r.is_json


def test_token_last_used_at_is_recorded(app, client, tenant_a, token_for):
    plain = token_for(tenant_a["owner"])
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(ApiToken.last_used_at)).one() is None
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 200
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(ApiToken.last_used_at)).one() is not None


def test_api_is_csrf_exempt_but_session_cookies_do_not_authenticate(client, tenant_a, login):
    login(client, tenant_a["owner"].email)
    r = client.get("/api/v1/me")
    assert r.status_code == 401, "a browser session must not open the API (it is CSRF-exempt)"


def test_api_request_leaves_no_identity_behind(client, tenant_a, login, token_for):
    """Context variables set for a request are reset afterwards, even when a signed-in browser
    also sends a bearer token (the worker thread serves the next person next)."""
    plain = token_for(tenant_a["owner"])
    login(client, tenant_a["owner"].email)
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 200
    assert current_tenant_id() is None
    assert current_user_id() is None
    assert client.get(f"/w/{tenant_a.slug}/").status_code == 200
    assert current_tenant_id() is None and current_user_id() is None


# ---------------------------------------------------------------- members


def test_members_list_filters_and_pagination(app, client, tenant_a, tenant_b, token_for):
    plain = token_for(tenant_a["owner"])
    with in_tenant(app, tenant_a.id):
        factories.add_member(tenant_a, "sales", "quiet@alpha.example.com", "赵六", active=False)
        db.session.commit()
    h = bearer(plain)
    body = client.get("/api/v1/members", headers=h).get_json()
    assert body["total"] == 6
    names = {m["name"] for m in body["items"]}
    assert "王建国" in names and "赵六" in names
    assert not names & set(factories.NAMES["b"].values()), "another tenant's members leaked"

    sales = client.get("/api/v1/members?role=sales", headers=h).get_json()
    assert {m["email"] for m in sales["items"]} == {tenant_a["sales"].email, "quiet@alpha.example.com"}

    active = client.get("/api/v1/members?role=sales&active=true", headers=h).get_json()
    assert [m["email"] for m in active["items"]] == [tenant_a["sales"].email]
    assert active["items"][0]["reports_to_id"] == tenant_a["sales_manager"].id

    q = client.get("/api/v1/members", query_string={"q": "张"}, headers=h).get_json()
    assert [m["name"] for m in q["items"]] == ["张伟"]
    q = client.get("/api/v1/members", query_string={"q": "FINANCE@ALPHA"}, headers=h).get_json()
    assert q["total"] == 1

    p1 = client.get("/api/v1/members?page_size=4", headers=h).get_json()
    p2 = client.get("/api/v1/members?page_size=4&page=2", headers=h).get_json()
    assert (p1["total"], len(p1["items"]), len(p2["items"]), p2["page"]) == (6, 4, 2, 2)
    assert not {m["id"] for m in p1["items"]} & {m["id"] for m in p2["items"]}


@pytest.mark.parametrize(
    ("query", "field"),
    [("role=emperor", "role"), ("page=0", "page"), ("page_size=1000", "page_size"), ("active=maybe", "active")],
)
def test_members_query_validation_names_the_field(client, tenant_a, token_for, query, field):
    r = client.get(f"/api/v1/members?{query}", headers=bearer(token_for(tenant_a["owner"])))
    assert r.status_code == 422
    assert field in r.get_json()["errors"]["query"]


# ---------------------------------------------------------------- exports and jobs


def test_export_validation_names_the_field(client, tenant_a, token_for, raw_rows):
    h = bearer(token_for(tenant_a["owner"]))
    r = client.post("/api/v1/exports", json={"kind": "nope"}, headers=h)
    assert r.status_code == 422
    assert "kind" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/exports", json={"kind": "members", "format": "docx"}, headers=h)
    assert r.status_code == 422 and "format" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/exports", json={}, headers=h)
    assert r.status_code == 422 and "kind" in r.get_json()["errors"]["json"]
    assert raw_rows("job_records") == []


def test_export_job_end_to_end_xlsx(app, client, tenant_a, tenant_b, token_for):
    h = bearer(token_for(tenant_a["finance"]))
    r = client.post("/api/v1/exports", json={"kind": "members", "format": "xlsx"}, headers=h)
    assert r.status_code == 202, r.get_data(as_text=True)
    job = r.get_json()
    assert job["kind"] == "members_export"
    r = client.get(f"/api/v1/jobs/{job['id']}", headers=h)
    assert r.status_code == 200
    status = r.get_json()
    assert status["status"] == "finished" and status["progress"] == 100
    assert status["result_url"].endswith(f"/api/v1/jobs/{job['id']}/result")
    r = client.get(status["result_url"], headers=h)
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in r.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    cells = {str(c.value) for row in wb.active.iter_rows() for c in row if c.value is not None}
    for m in tenant_a.members.values():
        assert m.name in cells and m.email in cells
    assert not cells & set(factories.NAMES["b"].values()), "tenant B's members are in A's export"


def test_job_of_same_tenant_without_permission_is_403(client, tenant_a, token_for):
    owner_h = bearer(token_for(tenant_a["owner"]))
    job = client.post("/api/v1/exports", json={"kind": "members"}, headers=owner_h).get_json()
    sales_h = bearer(token_for(tenant_a["sales"]))
    assert client.post("/api/v1/exports", json={"kind": "members"}, headers=sales_h).status_code == 403
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=sales_h).status_code == 403
    assert client.get(f"/api/v1/jobs/{job['id']}/result", headers=sales_h).status_code == 403
    # Has members.export but neither asked for it nor manages members.
    mgr_h = bearer(token_for(tenant_a["sales_manager"]))
    assert client.get(f"/api/v1/jobs/{job['id']}/result", headers=mgr_h).status_code == 403
    admin_h = bearer(token_for(tenant_a["admin"]))
    assert client.get(f"/api/v1/jobs/{job['id']}/result", headers=admin_h).status_code == 200


def test_job_of_other_tenant_is_404(client, tenant_a, tenant_b, token_for):
    job = client.post(
        "/api/v1/exports", json={"kind": "members"}, headers=bearer(token_for(tenant_a["owner"]))
    ).get_json()
    b = bearer(token_for(tenant_b["owner"]))
    r = client.get(f"/api/v1/jobs/{job['id']}", headers=b)
    assert r.status_code == 404 and r.is_json
    assert client.get(f"/api/v1/jobs/{job['id']}/result", headers=b).status_code == 404


def test_unfinished_job_result_is_409(app, client, tenant_a, token_for):
    with in_tenant(app, tenant_a.id):
        owner = db.session.get(Membership, tenant_a["owner"].id)
        job = factories.make_job(owner, status="running")
        db.session.commit()
        job_id = job.id
    r = client.get(f"/api/v1/jobs/{job_id}/result", headers=bearer(token_for(tenant_a["owner"])))
    assert r.status_code == 409


def test_unknown_route_under_api_is_json_404(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.is_json


# ---------------------------------------------------------------- OpenAPI


def test_openapi_document_is_valid_and_complete(app, client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert re.match(r"^3\.\d+\.\d+$", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    assert "bearerAuth" in doc["components"]["securitySchemes"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                assert op.get("responses"), f"{method.upper()} {path} documents no response"

    documented = set()
    for path, item in doc["paths"].items():
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                documented.add((method.upper(), path))
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((method, path))
    assert served, "no /api/v1 routes found"
    assert served == documented, (
        f"served but undocumented: {served - documented}; documented but not served: {documented - served}"
    )


def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_openapi_document_is_self_consistent(client):
    """The structural rules of OpenAPI 3 that a generator can get wrong."""
    doc = client.get("/api/v1/openapi.json").get_json()
    for ref in set(_refs(doc)):
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, f"dangling $ref {ref}"
            node = node[part]
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/"), path
        templated = set(re.findall(r"{(\w+)}", path))
        shared = [p for p in item.get("parameters", []) if p.get("in") == "path"]
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            assert all(re.fullmatch(r"[1-5]\d\d|default", code) for code in op["responses"]), op["responses"]
            declared = {p["name"] for p in shared + [p for p in op.get("parameters", []) if p.get("in") == "path"]}
            assert declared == templated, f"{method.upper()} {path}: path parameters {declared} vs {templated}"
            for p in shared + op.get("parameters", []):
                if p.get("in") == "path":
                    assert p.get("required") is True
            if method in {"post", "put", "patch"} and "requestBody" in op:
                assert "application/json" in op["requestBody"]["content"]
    assert doc["paths"]["/api/v1/exports"]["post"]["requestBody"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize("q", ["%", "_", "\\"])
def test_members_search_treats_wildcards_literally(client, tenant_a, token_for, q):
    r = client.get("/api/v1/members", query_string={"q": q}, headers=bearer(token_for(tenant_a["owner"])))
    assert r.status_code == 200
    items = r.get_json()["items"]
    wrong = [m["email"] for m in items if q not in m["name"].lower() + m["email"].lower()]
    assert not wrong, f"q={q!r} matched members whose name and e-mail do not contain it: {wrong}"
    assert len(items) == (1 if q == "_" else 0)  # sales_manager@…


def test_patch_changes_only_the_fields_sent(app, client, tenant_a, token_for):
    """PATCH is partial: unsent fields keep their values (defaults must not creep back in)."""
    with in_tenant(app, tenant_a.id):
        rep = db.session.get(Membership, tenant_a["sales"].id)
        customer, contact = factories.make_customer(rep, "甲公司", contact="老张", status="active", locked=True)
        contact.is_primary = True
        contact.title = "采购经理"
        db.session.commit()
        cid, pid = customer.id, contact.id
    h = bearer(token_for(tenant_a["sales"]))
    r = client.patch(f"/api/v1/customers/{cid}", json={"phone": "021-12345678"}, headers=h)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["name"], body["status"], body["locked"], body["phone"]) == ("甲公司", "active", True, "021-12345678")
    r = client.patch(f"/api/v1/contacts/{pid}", json={"mobile": "13800000000"}, headers=h)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["name"], body["title"], body["is_primary"]) == ("老张", "采购经理", True)
    assert body["mobile"] == "13800000000"
    r = client.patch(f"/api/v1/customers/{cid}", json={"status": "nope"}, headers=h)
    assert r.status_code == 422 and "status" in r.get_json()["errors"]["json"]
    doc = client.get("/api/v1/openapi.json").get_json()
    patch_body = doc["paths"]["/api/v1/customers/{customer_id}"]["patch"]["requestBody"]["content"]["application/json"]
    schema = patch_body["schema"]
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
    assert "name" not in schema.get("required", []), "the PATCH body documents name as required"
