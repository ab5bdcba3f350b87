"""Issue 5's "Done when" in a real browser, in 简体中文 and in English.

A finance member sets up the books, takes a delivered order from the "To invoice" queue through a
draft invoice, posting, a receipt and its allocation to the customer statement (对账单); offsets a
customer-supplier's receivable against its payable; a finance manager writes off the small
difference that is left; the month before is closed from the Periods page (a job), and posting
into it is refused by the page and by the API; the manager re-opens it with a reason; the trial
balance and the general ledger are exported to xlsx and PDF and the downloads are read back.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, MO_FILE, Browsing, LiveServer, Person, new_owner, sign_in, sign_up, zh
from tests.imports_factories import VOUCHER_HEADER, xlsx

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")
CUSTOMER = "杭州明远仓储有限公司"
SUPPLIER = "杭州明远设备维修部"
ORDER_LINE = {"description": "仓储系统实施服务", "quantity": "2", "unit_price": "1000.00", "tax_rate": "0.06"}
# 2 × 1,000.00 + 6 % VAT = 2,120.00; the customer pays 2,000.00; a 100.00 + 13 % bill (113.00) of
# the same party is offset; the 7.00 left is written off.
INVOICE_TOTAL, RECEIVED, BILL_TOTAL, LEFT = "2,120.00", "2,000.00", "113.00", "7.00"


@dataclass
class Lang:
    code: str  # the browser's locale
    html: str  # <html lang>

    @property
    def chinese(self) -> bool:
        return self.html == "zh-CN"

    def t(self, msgid: str, **params: Any) -> str:
        """What the page says for msgid in this language (the compiled catalog for Chinese)."""
        text = (zh(msgid) or msgid) if self.chinese else msgid
        return text % params if params else text

    def tp(self, context: str, msgid: str) -> str:
        """pgettext: the same, for a msgid with a context."""
        if not self.chinese or not MO_FILE.exists():
            return msgid
        import gettext

        with MO_FILE.open("rb") as fh:
            return gettext.GNUTranslations(fh).pgettext(context, msgid)


LANGS = {"zh": Lang("zh-CN", "zh-CN"), "en": Lang("en-US", "en")}


# ---------------------------------------------------------------- arrangement outside the finance journey


def seed_delivered_order(live_server: LiveServer, slug: str, owner_email: str) -> dict[str, int | str]:
    """Sales' part, done before finance starts: a customer and an order delivered in full."""
    from sqlalchemy import select

    from crm.db import db
    from crm.orders import services as orders
    from crm.sales.services import CustomerInput, create_customer
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant, User

    with live_server.app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        user = db.session.scalars(select(User).where(User.email == owner_email)).one()
        with tenant_context(tenant, user_id=user.id):
            rep = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
            customer = create_customer(rep, CustomerInput(values={"name": CUSTOMER}, confirm_duplicates=True))
            order = orders.create_order(rep, tenant, customer, orders.OrderInput(lines=[ORDER_LINE]))
            db.session.flush()
            orders.record_delivery(rep, order, {x.id: x.quantity for x in order.lines})
            db.session.flush()
            out: dict[str, int | str] = {"customer_id": customer.id, "order_id": order.id, "order": order.number}
        db.session.commit()
    return out


def workspace_today(live_server: LiveServer, slug: str) -> date:
    from sqlalchemy import select

    from crm.books.services import today_in
    from crm.db import db
    from tenants.models import Tenant

    with live_server.app.app_context():
        return today_in(db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one())


def api(live_server: LiveServer, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(  # noqa: S310 — the test's own live server
        f"{live_server.url}/api/v1{path}", data=data, method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 — the test's own live server
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


# ---------------------------------------------------------------- page helpers

# Elements of the page's content (the top bar is not the finance pages' own) that reach past the
# viewport's right edge, outside any horizontally scrolling box.
SPILLS = """(width) => {
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
    return false; };
  return [...document.querySelectorAll('main *')].filter(el => {
    const r = el.getBoundingClientRect(); return r.width > 0 && r.right > width + 1 && !scrolls(el)
      && getComputedStyle(el).position !== 'fixed';
  }).slice(0, 8).map(el => el.tagName.toLowerCase()
    + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
    + ' right=' + Math.round(el.getBoundingClientRect().right));
}"""


def accept_dialogs(page: Page) -> None:
    """The app asks before posting (<form data-confirm>): answer yes."""
    page.on("dialog", lambda d: d.accept())


def option_value(page: Page, select: str, starts_with: str) -> str:
    """The value of the first option of `select` whose text starts with `starts_with`."""
    value = page.locator(select).first.evaluate(
        "(el, p) => { const o = [...el.options].find(o => o.text.trim().startsWith(p)); return o ? o.value : null; }",
        starts_with,
    )
    assert value, f"no option starting with {starts_with!r} in {select}"
    return str(value)


def wait_for_job(page: Page, testid: str) -> None:
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_test_id(testid)).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("job-error")).to_have_count(0)


def download(page: Page) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_test_id("job-download").click()
    dl = info.value
    return dl.suggested_filename, dl.path().read_bytes()


def pdf_text(data: bytes, tmp_path: Any, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


# ---------------------------------------------------------------- the journey


@pytest.mark.parametrize("lang_key", ["zh", "en"])
def test_finance_takes_an_order_to_a_closed_month_and_exports_the_books(
    browsing: Browsing, live_server: LiveServer, lang_key: str, tmp_path: Any
) -> None:
    lang = LANGS[lang_key]
    t = lang.t
    step = iter(range(1, 100))
    browsing.test_name = f"finance-journey-{lang_key}"
    for stale in ARTIFACTS.glob(f"finance-journey-{lang_key}-*"):  # this run's files only, numbered afresh
        stale.unlink()

    def shot(page: Page, name: str) -> None:
        browsing.shot(page, f"{next(step):02d}-{name}")

    owner, ws = new_owner(f"fin{lang_key}")
    owner_page = browsing.new_page(locale=lang.code)
    sign_up(owner_page, owner, ws)
    fin = Person(name="陈静" if lang.chinese else "Chen Jing", email=f"chen@{ws.slug}.example.com")
    boss = Person(name="周敏" if lang.chinese else "Zhou Min", email=f"zhou@{ws.slug}.example.com")
    live_server.seed_member(ws.slug, fin.email, fin.name, ["finance"])
    live_server.seed_member(ws.slug, boss.email, boss.name, ["finance_manager"])
    sales = seed_delivered_order(live_server, ws.slug, owner.email)
    base = f"/w/{ws.slug}/finance"

    today = workspace_today(live_server, ws.slug)  # the workspace's date (Asia/Shanghai), not the machine's
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    closed_key = last_month.strftime("%Y-%m")

    page = browsing.new_page(locale=lang.code)
    accept_dialogs(page)
    sign_in(page, fin)
    expect(page.locator("html")).to_have_attribute("lang", lang.html)

    # ---- the books: the first finance page sends to the set-up
    page.goto(f"{base}/books/entries")
    expect(page).to_have_url(re.compile(r"/books/setup$"))
    setup = page.get_by_test_id("books-setup")
    expect(setup.locator("#standard-small")).to_be_checked()
    setup.locator("#start").fill(closed_key)
    shot(page, "books-setup")
    setup.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/books/accounts$"))
    expect(page.locator("main")).to_contain_text("应收账款")
    shot(page, "chart-of-accounts")

    # ---- to invoice → draft → posted
    page.goto(f"{base}/to-invoice")
    row = page.get_by_test_id(f"queue-order-{sales['order_id']}")
    expect(row).to_contain_text(CUSTOMER)
    expect(row).to_contain_text(INVOICE_TOTAL)
    shot(page, "to-invoice")
    row.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+/edit$"))
    expect(page.get_by_test_id("invoice-source")).to_contain_text(str(sales["order"]))
    expect(page.locator("[name='lines-0-description']")).to_have_value(ORDER_LINE["description"])
    shot(page, "draft-invoice")
    page.get_by_test_id("invoice-form").locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+$"))
    invoice_url = page.url
    expect(page.get_by_test_id("total-incl")).to_have_text(INVOICE_TOTAL)
    expect(page.get_by_test_id("capital")).to_have_text("贰仟壹佰贰拾元整")
    page.locator("form[action$='/post'] button[type=submit]").click()
    expect(page.get_by_test_id("invoice-status")).to_have_text(lang.tp("document status", "Open"))
    expect(page.get_by_test_id("open-amount")).to_have_text(INVOICE_TOTAL)
    expect(page.get_by_test_id("entry-link")).to_be_visible()
    invoice_number = page.locator("h1 .font-monospace").inner_text().strip()
    shot(page, "invoice-posted")
    page.goto(f"{base}/to-invoice")
    expect(page.get_by_test_id(f"queue-order-{sales['order_id']}")).to_have_count(0)

    # ---- a receipt, allocated to the invoice after a review
    page.goto(f"{base}/receipts/new?party_id={sales['customer_id']}")
    form = page.get_by_test_id("payment-form")
    expect(form.locator("#party_id")).to_have_value(str(sales["customer_id"]))
    form.locator("#amount").fill("2000.00")
    form.locator("#reference").fill(f"BANK-{today:%Y%m%d}-001")
    expect(form.locator("#post")).to_be_checked()
    shot(page, "receipt-form")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/receipts/\d+$"))
    receipt_url = page.url
    expect(page.get_by_test_id("unallocated")).to_contain_text(RECEIVED)
    alloc = page.get_by_test_id("allocate-form")
    expect(alloc.locator("input[name^='amount-']")).to_have_value("2000.00")  # prefilled oldest first
    shot(page, "receipt-posted")
    alloc.locator("button[type=submit]").click()
    expect(page.get_by_test_id("allocation-preview")).to_contain_text(invoice_number)
    shot(page, "allocation-review")
    page.locator("form input[name=confirm]").locator("xpath=..").locator("button[type=submit]").click()
    expect(page.get_by_test_id("allocated")).to_contain_text(RECEIVED)
    expect(page.get_by_test_id("allocations")).to_contain_text(invoice_number)
    shot(page, "allocated")
    page.goto(invoice_url)
    expect(page.get_by_test_id("open-amount")).to_have_text("120.00")

    # ---- the customer statement (对账单): closing balance and the amount in words
    page.goto(f"{base}/reports/statement")
    params = page.get_by_test_id("report-params")
    params.locator("#customer").select_option(str(sales["customer_id"]))
    params.locator("button[type=submit]").click()
    table = page.get_by_test_id("report-table")
    expect(table).to_contain_text(invoice_number)
    closing = page.get_by_test_id("report-total").last
    expect(closing).to_contain_text(t("Closing balance"))
    expect(closing).to_contain_text("120.00")
    expect(page.get_by_test_id("report-note")).to_contain_text("壹佰贰拾元整")
    statement_url = page.url
    shot(page, "statement")

    # ---- the customer is also a supplier: its bill offsets the receivable (应收冲应付)
    page.goto(f"{base}/suppliers/new")
    sform = page.get_by_test_id("supplier-form")
    sform.locator("#name").fill(SUPPLIER)
    sform.locator("#customer_id").select_option(str(sales["customer_id"]))
    sform.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/suppliers/\d+$"))
    supplier_id = page.url.rsplit("/", 1)[1]
    page.goto(f"{base}/bills/new?supplier_id={supplier_id}")
    bform = page.get_by_test_id("invoice-form")
    expect(bform.locator("#supplier_id")).to_have_value(supplier_id)
    bform.locator("[name='lines-0-description']").fill("叉车维修")
    bform.locator("[name='lines-0-quantity']").fill("1")
    bform.locator("[name='lines-0-unit_price']").fill("100.00")
    bform.locator("[name='lines-0-tax_rate']").select_option("0.13")
    shot(page, "bill-form")
    bform.locator("button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/bills/\d+$"))
    expect(page.get_by_test_id("total-incl")).to_have_text(BILL_TOTAL)
    page.locator("form[action$='/post'] button[type=submit]").click()
    expect(page.get_by_test_id("invoice-status")).to_have_text(lang.tp("document status", "Open"))
    bill_number = page.locator("h1 .font-monospace").inner_text().strip()

    page.goto(f"{base}/receipts")
    page.locator(f"a[href$='{base}/offsets']").first.click()
    shot(page, "offsets-empty")
    page.locator(f"main a[href$='{base}/offsets/new']").first.click()
    page.locator("#customer").select_option(str(sales["customer_id"]))
    page.locator("form[method=get] button[type=submit]").click()
    oform = page.get_by_test_id("offset-form")
    oform.locator("#invoice_id").select_option(label=f"{invoice_number} · 120.00")
    oform.locator("#bill_id").select_option(label=f"{bill_number} · 113.00")
    oform.locator("#amount").fill("113.00")
    oform.locator("button[type=submit]").click()
    expect(oform.locator("input[name=confirm]")).to_have_count(1)
    shot(page, "offset-review")
    page.get_by_test_id("offset-form").locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/offsets$"))
    expect(page.get_by_test_id("offset-table")).to_contain_text(bill_number)
    shot(page, "offset-posted")
    page.goto(invoice_url)
    expect(page.get_by_test_id("open-amount")).to_have_text(LEFT)
    settlements = page.get_by_test_id("document-settlements")
    expect(settlements).to_contain_text(bill_number)
    # A finance member without books.write_off is not offered the write-off.
    expect(settlements.locator("a[href*='/write-off']")).to_have_count(0)

    # ---- the manager writes off the 7.00 left
    manager = browsing.new_page(locale=lang.code)
    accept_dialogs(manager)
    sign_in(manager, boss)
    manager.goto(invoice_url)
    manager.get_by_test_id("document-settlements").locator("a[href*='/write-off']").click()
    wform = manager.get_by_test_id("write-off-form")
    expect(wform.locator("#amount")).to_have_value(LEFT)
    wform.locator("#reason").fill(
        "尾差，客户确认不再支付" if lang.chinese else "Rounding difference the customer will not pay"
    )
    shot(manager, "write-off-form")
    wform.locator("button[type=submit]").click()
    expect(manager).to_have_url(re.compile(r"/invoices/\d+$"))
    expect(manager.get_by_test_id("open-amount")).to_have_text("0.00")
    expect(manager.get_by_test_id("document-settlements")).to_contain_text(LEFT)
    shot(manager, "written-off")

    # ---- close last month from the Periods page (a job)
    page.goto(f"{base}/books/periods")
    periods = page.get_by_test_id("periods")
    expect(periods.locator(f"tr[data-period='{closed_key}']")).to_contain_text(lang.tp("period", "Open"))
    shot(page, "periods")
    periods.locator(f"tr[data-period='{closed_key}'] a.btn").click()
    expect(page).to_have_url(re.compile(rf"/periods/{closed_key}$"))
    checklist = page.get_by_test_id("close-checklist")
    expect(checklist.locator("[data-ok=no]")).to_have_count(0)
    shot(page, "close-checklist")
    page.locator(f"form[action$='/periods/{closed_key}/close'] button[type=submit]").click()
    wait_for_job(page, "job-done")
    shot(page, "close-job-done")
    page.goto(f"{base}/books/periods/{closed_key}")
    expect(page.locator("h1 .badge")).to_have_text(t("Closed"))
    # The finance member may close but not re-open.
    expect(page.get_by_test_id("reopen-form")).to_have_count(0)

    # ---- posting into the closed month: refused by the page …
    page.goto(f"{base}/books/entries/new")
    eform = page.get_by_test_id("entry-form")
    eform.locator("#entry_date").fill(f"{closed_key}-15")
    eform.locator("#memo").fill("补记上月费用" if lang.chinese else "Late expense for last month")
    line0, line1 = "[name='lines-0-account']", "[name='lines-1-account']"
    eform.locator(line0).select_option(option_value(page, line0, "5602"))
    eform.locator("[name='lines-0-debit']").fill("300.00")
    eform.locator(line1).select_option(option_value(page, line1, "1002"))
    eform.locator("[name='lines-1-credit']").fill("300.00")
    eform.locator("button[name=post]").click()
    refusal = t("%(month)s is closed; nothing can be posted into it.", month=closed_key)
    expect(page.get_by_test_id("entry-form").locator(".alert-danger")).to_be_visible()
    # A refused form answers 400 on purpose, which Chromium logs as a failed resource: that one only.
    browsing.problems[:] = [p for p in browsing.problems if not ("status of 400" in p and "/entries/new" in p)]
    expect(page.get_by_test_id("entry-form").locator(".alert-danger")).to_contain_text(refusal)
    shot(page, "refused-in-closed-month")

    # … and by the API, with a token the member makes for herself
    page.goto(f"/w/{ws.slug}/account/tokens")
    page.locator("#name").fill("ERP")
    page.locator("form[method=post] button[type=submit]").last.click()
    token = page.locator("#new-token").input_value()
    status, accounts = api(live_server, token, "GET", "/accounts?page_size=200")
    assert status == 200, accounts
    items = accounts["items"] if isinstance(accounts, dict) else accounts
    by_code = {a["code"]: a["id"] for a in items}
    lines = [{"account": by_code["5602"], "debit": "300.00"}, {"account": by_code["1002"], "credit": "300.00"}]
    body = {"date": f"{closed_key}-15", "memo": "API late entry", "lines": lines}
    status, created = api(live_server, token, "POST", "/journal-entries", body)
    if status == 201:  # a draft may exist in a closed month; posting it may not
        status, refused = api(live_server, token, "POST", f"/journal-entries/{created['id']}/post")
    else:
        refused = created
    assert 400 <= status < 500, (status, refused)
    assert refused["rule"] == "period_closed", refused

    # … and by an import of vouchers (凭证导入): the dry run names the closed month
    vouchers = tmp_path / ("上月凭证.xlsx" if lang.chinese else "late-vouchers.xlsx")
    vouchers.write_bytes(
        xlsx([VOUCHER_HEADER[:8],
              [f"{closed_key}-15", "记", 1, "补记上月费用", "5602", "管理费用", 300, None],
              [f"{closed_key}-15", "记", 1, "补记上月费用", "1002", "银行存款", None, 300]])
    )  # fmt: skip
    page.goto(f"{base}/imports")
    upload = page.get_by_test_id("import-upload")
    upload.locator("#kind").select_option("journal_entries")
    upload.locator("#file").set_input_files(str(vouchers))
    upload.locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-problems")).to_contain_text(refusal)
    expect(page.get_by_test_id("import-commit").locator("button[type=submit]")).to_be_disabled()
    shot(page, "import-refused")

    # ---- the manager re-opens it, with a reason
    manager.goto(f"{base}/books/periods/{closed_key}")
    reopen = manager.get_by_test_id("reopen-form")
    reason = "补记漏记的费用" if lang.chinese else "A missed expense must be booked"
    reopen.locator("#reason").fill(reason)
    shot(manager, "reopen-form")
    reopen.locator("button[type=submit]").click()
    expect(manager.locator("h1 .badge")).to_have_text(lang.tp("period", "Open"))
    expect(manager.locator("main")).to_contain_text(reason)
    shot(manager, "reopened")

    # ---- the trial balance and the general ledger, to xlsx and PDF
    month = today.strftime("%Y-%m")
    page.goto(f"{base}/reports/trial-balance?period={month}")
    expect(page.get_by_test_id("report-table")).to_contain_text("应收账款" if lang.chinese else "1122")
    shot(page, "trial-balance")
    exports: dict[str, tuple[str, bytes]] = {}
    for report, url in (("tb", f"{base}/reports/trial-balance?period={month}"),
                        ("gl", f"{base}/reports/general-ledger?period={month}")):  # fmt: skip
        for fmt in ("xlsx", "pdf"):
            page.goto(url)
            expect(page.get_by_test_id("report-table")).to_be_visible()
            if report == "gl" and fmt == "xlsx":
                shot(page, "general-ledger")
            page.get_by_test_id(f"export-{fmt}").click()
            wait_for_job(page, "job-download")
            exports[f"{report}.{fmt}"] = download(page)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)  # kept beside the screenshots, to look at
            (ARTIFACTS / f"finance-journey-{lang_key}-{report}.{fmt}").write_bytes(exports[f"{report}.{fmt}"][1])
    shot(page, "export-ready")

    # Every other report exports too: a workbook that opens, a PDF with text, the customer's
    # Chinese name wherever the report names parties.
    others = {
        "journal": (f"{base}/reports/journal", True),
        "balance-sheet": (f"{base}/reports/balance-sheet", False),
        "income-statement": (f"{base}/reports/income-statement", False),
        "ar-aging": (f"{base}/reports/ar-aging?detail=1", False),
        "ap-aging": (f"{base}/reports/ap-aging?detail=1", False),
        "statement": (statement_url, True),
    }
    for report, (url, names_customer) in others.items():
        page.goto(url)
        expect(page.get_by_test_id("report-export")).to_be_visible()
        if report in ("balance-sheet", "income-statement"):
            expect(page.get_by_test_id("report-table")).not_to_contain_text("-0.00")
            shot(page, report)
        for fmt in ("xlsx", "pdf"):
            page.goto(url)
            page.get_by_test_id(f"export-{fmt}").click()
            wait_for_job(page, "job-download")
            name, data = download(page)
            if fmt == "xlsx":
                sheets = load_workbook(BytesIO(data), read_only=True).worksheets
                text = "\n".join(
                    str(v) for sh in sheets for r in sh.iter_rows(values_only=True) for v in r if v is not None
                )
            else:
                assert data[:4] == b"%PDF", name
                text = pdf_text(data, tmp_path, f"{report}.pdf")
            assert name.endswith(f".{fmt}") and text.strip(), (report, name)
            if names_customer or lang.chinese:
                assert CJK.search(text), (report, fmt, text[:400])
            if names_customer:
                assert CUSTOMER in text, (report, fmt, text[:400])

    # Account names in the reader's language; the customer (a Chinese name) in the ledger either way,
    # so the PDF's CJK font is proven in English too.
    names = ("应收账款", "主营业务收入") if lang.chinese else ("Accounts receivable", "Main operating revenue")
    for key in ("tb.xlsx", "gl.xlsx"):
        name, data = exports[key]
        assert name.endswith(".xlsx") and data[:2] == b"PK", name
        rows = [
            r
            for sheet in load_workbook(BytesIO(data), read_only=True).worksheets
            for r in sheet.iter_rows(values_only=True)
        ]
        text = "\n".join(str(v) for r in rows for v in r if v is not None)
        assert all(n in text for n in names), (key, text[:800])
        if key == "gl.xlsx":
            assert CUSTOMER in text, text[:800]
        else:  # money as numbers: the receivable's period debit
            receivable = next(r for r in rows if r and r[0] == "1122")
            assert 2120 in [v for v in receivable if isinstance(v, int | float)], receivable
    if lang.chinese:
        assert exports["tb.xlsx"][0].startswith("科目余额表"), exports["tb.xlsx"][0]
        assert exports["gl.pdf"][0].startswith("明细账"), exports["gl.pdf"][0]
    for key in ("tb.pdf", "gl.pdf"):
        name, data = exports[key]
        assert name.endswith(".pdf") and data[:4] == b"%PDF", name
        text = pdf_text(data, tmp_path, key)
        assert all(n in text for n in names), (key, text[:800])
        if key == "gl.pdf":
            assert CUSTOMER in text, text[:800]
    # ---- the same pages at phone width: tables scroll inside their card, nothing spills
    phone = browsing.new_page(locale=lang.code, viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    sign_in(phone, fin)
    for name, url in (("phone-invoice", invoice_url), ("phone-receipt", receipt_url),
                      ("phone-statement", statement_url), ("phone-periods", f"{base}/books/periods"),
                      ("phone-new-entry", f"{base}/books/entries/new"),
                      ("phone-trial-balance", f"{base}/reports/trial-balance?period={month}")):  # fmt: skip
        phone.goto(url)
        shot(phone, name)
        spills = phone.evaluate(SPILLS, 375)
        assert not spills, f"{name}: wider than the 375px viewport: {spills}"
    browsing.check(page)
