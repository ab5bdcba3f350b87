"""Business-registration look-up: the imported table (all rows or none), the HTTP provider
against a stub server on 127.0.0.1, back-filling the customer form, and who may do what."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import xlsxwriter
from sqlalchemy import func, select

from crm.db import db
from crm.registry.models import RegistryEntry
from crm.registry.providers import HttpRegistry, RegistryUnavailable
from tests.helpers import bearer, in_tenant, post, text_of

GOOD = "91110000600037341L"


def _body17(i: int) -> str:
    return f"9111000060003{i:04d}"


def _code(i: int) -> str:
    from crm.sales.rules import uscc_check_character

    return _body17(i) + uscc_check_character(_body17(i))


def _xlsx(rows: list[list[object]]) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    ws.write(0, 0, "企业工商信息表")  # a title row above the header
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    wb.close()
    return buf.getvalue()


HEADER = ["企业名称", "统一社会信用代码", "法定代表人", "注册资本", "成立日期", "注册地址", "登记状态"]


def _count(app, tenant) -> int:
    with in_tenant(app, tenant.id):
        return db.session.scalar(select(func.count(RegistryEntry.id))) or 0


def _upload(client, slug, filename, data, keep_good=False):
    form = {"file": (io.BytesIO(data), filename)}
    if keep_good:
        form["keep_good"] = "y"
    return post(client, f"/w/{slug}/sales/registry/import", form, content_type="multipart/form-data")


def test_an_import_with_a_bad_row_changes_nothing_and_names_the_row(app, tenant_a, client_as):
    data = _xlsx(
        [
            HEADER,
            ["北京百川科技有限公司", GOOD, "张三", "1000万元", "2015-03-05", "北京市海淀区", "存续"],
            ["坏代码有限公司", "91110000600037341M", "李四", "", "", "", ""],
        ]
    )
    r = _upload(client_as(tenant_a["admin"]), tenant_a.slug, "registry.xlsx", data)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "<td>4</td>" in page, text_of(r)  # title row 1, header row 2, so the bad row is 4
    assert _count(app, tenant_a) == 0


def test_keeping_the_good_rows_imports_them_and_a_second_import_updates(app, tenant_a, client_as):
    admin = client_as(tenant_a["admin"])
    data = _xlsx(
        [
            HEADER,
            ["北京百川科技有限公司", GOOD, "张三", "1000万元", "2015年3月5日", "北京市海淀区", "存续"],
            ["坏代码有限公司", "BAD", "", "", "", "", ""],
        ]
    )
    assert _upload(admin, tenant_a.slug, "r.xlsx", data, keep_good=True).status_code == 200
    assert _count(app, tenant_a) == 1
    csv = f"企业名称,统一社会信用代码,法定代表人\n北京百川科技股份有限公司,{GOOD},王五\n".encode("gb18030")
    assert _upload(admin, tenant_a.slug, "r.csv", csv).status_code == 200
    with in_tenant(app, tenant_a.id):
        e = db.session.scalars(select(RegistryEntry)).one()
        assert (e.name, e.legal_representative) == ("北京百川科技股份有限公司", "王五")


def test_uploads_of_the_wrong_type_are_refused(app, tenant_a, client_as):
    admin = client_as(tenant_a["admin"])
    assert _upload(admin, tenant_a.slug, "r.exe", b"MZ....").status_code == 400
    assert _upload(admin, tenant_a.slug, "r.xlsx", b"not a zip").status_code == 400


def test_only_admins_import_and_every_rep_looks_up(app, tenant_a, client_as):
    assert client_as(tenant_a["sales_manager"]).get(f"/w/{tenant_a.slug}/sales/registry/import").status_code == 403
    assert client_as(tenant_a["finance"]).get(f"/w/{tenant_a.slug}/sales/registry/lookup?q=x").status_code == 403


def test_lookup_by_name_or_code_offers_the_fields_to_fill(app, tenant_a, client_as):
    _upload(
        client_as(tenant_a["admin"]),
        tenant_a.slug,
        "r.xlsx",
        _xlsx([HEADER, ["北京百川科技有限公司", GOOD, "张三", "1000万元", "2015-03-05", "北京市海淀区", "存续"]]),
    )
    rep = client_as(tenant_a["sales"])
    for q in ("百川", GOOD):
        page = rep.get(
            f"/w/{tenant_a.slug}/sales/registry/lookup?registry_q={q}", headers={"HX-Request": "true"}
        ).get_data(as_text=True)
        assert 'data-fill-field="uscc" data-fill-value="91110000600037341L"' in page
        assert 'data-fill-field="name" data-fill-value="北京百川科技有限公司"' in page
    form = rep.get(f"/w/{tenant_a.slug}/sales/customers/new").get_data(as_text=True)
    assert 'data-testid="registry-lookup"' in form


def test_the_registry_of_one_workspace_is_not_searched_from_another(app, tenant_a, tenant_b, client_as):
    _upload(
        client_as(tenant_a["admin"]),
        tenant_a.slug,
        "r.xlsx",
        _xlsx([HEADER, ["北京百川科技有限公司", GOOD, "", "", "", "", ""]]),
    )
    page = (
        client_as(tenant_b["sales"])
        .get(f"/w/{tenant_b.slug}/sales/registry/lookup?registry_q=百川")
        .get_data(as_text=True)
    )
    assert "北京百川科技有限公司" not in page


class _Stub(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Stub.seen.append((self.path, self.headers.get("Authorization")))
        if "slow" in self.path:
            body = b"not json"
        else:
            body = json.dumps(
                {
                    "results": [
                        {
                            "name": "上海启明贸易有限公司",
                            "uscc": _code(7),
                            "legal_representative": "赵六",
                            "established_on": "2019-07-01",
                            "address": "上海市浦东新区",
                        }
                    ]
                }
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def stub_server():
    server = HTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/lookup"
    server.shutdown()


def test_the_http_provider_asks_the_configured_service_with_its_key(stub_server):
    _Stub.seen.clear()
    hits = HttpRegistry(stub_server, "secret-key").lookup("启明")
    assert [(h.name, h.legal_representative, str(h.established_on)) for h in hits] == [
        ("上海启明贸易有限公司", "赵六", "2019-07-01")
    ]
    path, auth = _Stub.seen[0]
    assert "q=%E5%90%AF%E6%98%8E" in path and auth == "Bearer secret-key"
    with pytest.raises(RegistryUnavailable):
        HttpRegistry(stub_server + "?mode=slow", None).lookup("x")
    with pytest.raises(RegistryUnavailable):
        HttpRegistry("http://127.0.0.1:1/none", None, timeout=1).lookup("x")


def test_the_api_and_the_form_use_the_http_provider_when_configured(make_app, tenant_a, token_for, stub_server):
    app = make_app(REGISTRY_URL=stub_server, REGISTRY_KEY="k")
    r = app.test_client().get("/api/v1/registry/lookup?q=启明", headers=bearer(token_for(tenant_a["sales"])))
    assert r.status_code == 200 and r.json[0]["uscc"] == _code(7)
    r = app.test_client().get("/api/v1/registry/lookup", headers=bearer(token_for(tenant_a["sales"])))
    assert r.status_code == 422 and "q" in r.json["errors"]["query"]
