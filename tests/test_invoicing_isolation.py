"""404 outside, for the invoicing routes alone (the full sweep is tests/test_cross_tenant.py):
workspace b's owner asks for workspace a's invoice, bill, supplier, order and contract."""

from __future__ import annotations

from tests.helpers import bearer
from tests.test_cross_tenant import INT_VAR, _rules, _send, _url, snapshot_a, world  # noqa: F401 — fixtures

UI = ("/w/<slug>/finance/invoices", "/w/<slug>/finance/bills", "/w/<slug>/finance/suppliers",
      "/w/<slug>/finance/to-invoice")  # fmt: skip
API = ("/api/v1/invoices", "/api/v1/bills", "/api/v1/suppliers")


def test_workspace_b_gets_404_for_a_s_documents_through_pages_and_api(app, world, client_as, client, snapshot_a):  # noqa: F811
    before = snapshot_a()
    pages = client_as(world.tenants["b"]["owner"])
    token = world.tokens[("b", "owner")]
    checked, wrong = [], []
    for prefix, slug, c, headers in (("/w/<slug>/", world.tenants["b"].slug, pages, None),
                                     ("/api/", None, client, bearer(token))):  # fmt: skip
        for method, rule in _rules(app, prefix):
            if not rule.rule.startswith(UI + API) or not INT_VAR.search(rule.rule):
                continue
            url = _url(app, rule, world, slug=slug)
            r = _send(c, method, url, headers=headers)
            checked.append(url)
            if r.status_code != 404:
                wrong.append(f"{method} {url}: {r.status_code}")
    assert len(checked) >= 25
    assert not wrong, "\n".join(wrong)
    assert snapshot_a() == before
