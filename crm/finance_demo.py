"""Demo data for the Finance workspace (`flask seed demo`): the books set up three months back, an
opening balance, suppliers (one of them also a customer), invoices from the demo orders and by
hand, bills, receipts and payments with their allocations, an offset, a small write-off, monthly
expenses, and the earlier months closed — all through the services the pages use, so every
figure is one the app itself would post. Runs once: a workspace whose books exist is left alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from crm.books import closing
from crm.books import services as books
from crm.books.models import Account
from crm.db import db
from crm.invoicing import services as invoicing
from crm.invoicing.models import Invoice
from crm.orders.models import Order
from crm.sales.models import Customer
from crm.settlement import services as settlement
from tenants.models import Membership, Tenant

SUPPLIERS = [
    # name, payment terms (days), also a customer?
    ("上海精工设备有限公司", 30, True),
    ("北京云途物流有限公司", 15, False),
    ("深圳华强电子元件有限公司", 45, False),
]
# (months back, day, customer index, description, amount excl. tax, VAT rate, days to pay)
HAND_INVOICES = [
    (2, 5, 0, "仓储系统实施服务", "48000.00", "0.06", 30),
    (2, 18, 1, "条码打印机 20 台", "36000.00", "0.13", 30),
    (1, 3, 2, "年度运维服务", "120000.00", "0.06", 60),
    (1, 12, 3, "手持终端 50 台", "87500.00", "0.13", 30),
    (1, 25, 0, "系统二期开发", "150000.00", "0.06", 45),
    (0, 6, 4, "仓库货架 1 批", "64200.00", "0.13", 30),
]
# (months back, day, supplier index, description, amount excl. tax, VAT rate)
BILLS = [
    (2, 8, 0, "检测设备采购", "52000.00", "0.13"),
    (2, 20, 1, "9 月物流费", "8600.00", "0.09"),
    (1, 9, 2, "电子元件采购", "33800.00", "0.13"),
    (1, 21, 1, "10 月物流费", "9120.00", "0.09"),
    (0, 7, 0, "设备维护", "12000.00", "0.06"),
]
# Monthly running costs: (description, expense role, amount)
MONTHLY = [("办公室租金", "admin_expense", "18000.00"), ("销售人员差旅费", "selling_expense", "6500.00")]


def _month_start(today: date, back: int) -> date:
    year, month = today.year, today.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def seed_finance(tenant: Tenant, members: list[Membership], today: date | None = None) -> dict[str, int]:
    if books.is_set_up(tenant):
        return {}
    today = today or books.today_in(tenant)
    actor = next((m for m in members if "finance_manager" in m.roles), None) or members[0]
    start = _month_start(today, 2)
    books.set_up_books(tenant, actor, "small", start=start)
    bank, cash = books.account_for("bank"), books.account_for("cash")
    capital = db.session.scalars(select(Account).where(Account.code == "3001")).one()  # 实收资本 (small enterprise)
    books.post_lines(
        tenant, actor, start, "期初：股东投入资本",
        [books.LineInput(bank.id, debit="800000.00"), books.LineInput(cash.id, debit="20000.00"),
         books.LineInput(capital.id, credit="820000.00")],
    )  # fmt: skip
    customers = list(db.session.scalars(select(Customer).order_by(Customer.id).limit(8)))
    if len(customers) < 5:
        return {}
    suppliers = [
        invoicing.create_supplier(
            tenant, actor,
            {"name": name, "payment_terms_days": terms, "customer_id": customers[0].id if also else None,
             "bank_name": "招商银行", "bank_account": f"6214 8300 {1000 + i:04d} {2000 + i:04d}"},
        )
        for i, (name, terms, also) in enumerate(SUPPLIERS)
    ]  # fmt: skip

    def day(back: int, d: int) -> date:
        return min(_month_start(today, back) + timedelta(days=d - 1), today)

    invoices: list[Invoice] = []
    for back, d, ci, text, amount, rate, terms in HAND_INVOICES:
        when = day(back, d)
        inv = invoicing.create_invoice(
            tenant, actor,
            invoicing.InvoiceInput(
                direction="receivable", invoice_date=when, customer_id=customers[ci].id,
                due_date=when + timedelta(days=terms),
                lines=[{"description": text, "quantity": "1", "unit_price": amount, "tax_rate": rate}],
            ),
        )  # fmt: skip
        invoices.append(invoicing.post_invoice(tenant, actor, inv))
    # The delivered demo orders are invoiced; the others wait in the "to invoice" queue.
    for order in db.session.scalars(select(Order).where(Order.delivery_status == "delivered").order_by(Order.id)):
        inv = invoicing.invoice_from_order(tenant, actor, order)
        inv.invoice_date = max(order.order_date, start)
        invoices.append(invoicing.post_invoice(tenant, actor, inv))
    bills: list[Invoice] = []
    for back, d, si, text, amount, rate in BILLS:
        bill = invoicing.create_invoice(
            tenant, actor,
            invoicing.InvoiceInput(
                direction="payable", invoice_date=day(back, d), supplier_id=suppliers[si].id,
                external_number=f"{44000000 + back * 100 + d:08d}",
                lines=[{"description": text, "quantity": "1", "unit_price": amount, "tax_rate": rate}],
            ),
        )  # fmt: skip
        bills.append(invoicing.post_invoice(tenant, actor, bill))
    # Receipts: the first three invoices paid in full, the fourth in part; one receipt waits unallocated.
    receipts = 0
    for inv, share, back, d in ((invoices[0], "1", 1, 2), (invoices[1], "1", 1, 15), (invoices[2], "1", 0, 3),
                                (invoices[3], "0.5", 0, 10)):  # fmt: skip
        amount = (inv.total_incl * Decimal(share)).quantize(Decimal("0.01"))
        r = settlement.create_payment(
            tenant, actor,
            settlement.PaymentInput(direction="in", payment_date=max(day(back, d), inv.invoice_date), amount=amount,
                                    account_id=bank.id, customer_id=inv.customer_id, reference=f"招行回单 {d:02d}"),
            post=True,
        )  # fmt: skip
        settlement.allocate(tenant, actor, r, inv, amount, r.payment_date)
        receipts += 1
    settlement.create_payment(
        tenant, actor,
        settlement.PaymentInput(direction="in", payment_date=day(0, 12), amount="20000.00", account_id=bank.id,
                                customer_id=customers[4].id, reference="预付款", memo="货架项目预付款"),
        post=True,
    )  # fmt: skip
    # Suppliers: the first two bills paid.
    for bill, back, d in ((bills[0], 1, 5), (bills[1], 1, 1)):
        p = settlement.create_payment(
            tenant, actor,
            settlement.PaymentInput(direction="out", payment_date=max(day(back, d), bill.invoice_date),
                                    amount=bill.total_incl, account_id=bank.id, supplier_id=bill.supplier_id),
            post=True,
        )  # fmt: skip
        settlement.allocate(tenant, actor, p, bill, bill.total_incl, p.payment_date)
    # 应收冲应付: the customer who is also a supplier — its maintenance bill against its open invoice.
    settlement.offset(tenant, actor, invoices[4], bills[4], bills[4].total_incl, day(0, 8))
    # Monthly costs, paid from the bank.
    for back in (2, 1, 0):
        for text, role, amount in MONTHLY:
            books.post_lines(
                tenant, actor, day(back, 25), text,
                [books.LineInput(books.account_for(role).id, debit=amount), books.LineInput(bank.id, credit=amount)],
            )  # fmt: skip
    # A rounding difference (尾差) the customer will never pay, written off.
    settlement.write_off(
        tenant, actor, invoices[5], Decimal("0.50"), books.account_for("financial_expense").id, "尾差", day(0, 9)
    )
    # Close the months before last: books an auditor can follow.
    closed = 0
    for back in (2, 1):
        m = _month_start(today, back)
        closing.close_period(tenant, actor, m.year, m.month)
        closed += 1
    db.session.flush()
    return {"invoices": len(invoices), "bills": len(bills), "receipts": receipts, "closed": closed}
