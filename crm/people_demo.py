"""Demo data for expense claims and payroll (`flask seed demo`), run after the books are seeded
(crm.finance_demo): departments, eight employees (six of them demo members) with resident IDs,
bank accounts, contribution bases, special additional deductions and a year-end bonus, and the
current month's payroll computed, confirmed and paid; expense claims of several members in every
state (draft, awaiting approval, approved, reviewed, rejected with a reason, paid) and an advance
paid and set off against a claim. All through the services the pages use, so the same rules
apply: nobody approves, reviews or pays their own claim; approvers are the claimants' managers.

The books' two earlier months are closed by the finance seed, so everything posted here —
paid claims, the advance, the payroll's accrual and payment — is dated in the current month.
Payroll therefore confirms and pays the current month (both entries on its last day) rather
than the previous one, and leaves no draft run: a draft of an earlier month could never be
confirmed into a closed month, and would block nothing but confuse everyone.

Runs once: a workspace with employees (payroll) or with claims or advances (expenses) is left
alone, as is one whose current month is closed or locked.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from stdnum.cn import ric

from crm.books import services as books
from crm.books.models import Department
from crm.db import db
from crm.expenses import services as expenses
from crm.expenses.models import ExpenseAdvance, ExpenseClaim
from crm.payroll import services as payroll
from crm.payroll.models import Employee
from crm.settlement.services import cash_accounts
from roles.checks import can
from tenants.models import Membership, Tenant

DEMO_DOMAIN = "@demo.taizhang.local"
DEPARTMENTS = ("总经办", "行政部", "销售部", "财务部", "仓储部")

# (member e-mail or None, name, department, ID region, birth date, ID sequence (odd: male), hired
# (years back, month, day; None: this month), base, allowances, deductions, SI base, HF base, bank, account, notes)
EMPLOYEES = [
    ("admin", "李秀英", "行政部", "310104", "19860314", 42, (7, 4, 1), "13000.00", "800.00", "0", "13800.00",
     "13800.00", "中国工商银行上海徐汇支行", "6222021001124587336", "行政主管"),
    ("manager", "张伟", "销售部", "320102", "19840902", 17, (8, 7, 16), "22000.00", "1500.00", "0", "23500.00",
     "23500.00", "招商银行上海分行", "6214830122334455", "销售经理"),
    ("sales", "刘洋", "销售部", "420106", "19931127", 53, (4, 3, 1), "9000.00", "1200.00", "0", "10200.00",
     "10200.00", "中国建设银行上海浦东分行", "6217001210035567892", "销售代表；津贴含通讯补贴 200 元"),
    ("sales2", "陈静", "销售部", "330106", "19950608", 28, (3, 8, 14), "8500.00", "1200.00", "0", "9700.00",
     "9700.00", "交通银行上海分行", "6222620910023344556", "销售代表；津贴含通讯补贴 200 元"),
    ("finance", "杨帆", "财务部", "370102", "19830119", 35, (9, 5, 8), "20000.00", "1000.00", "0", "21000.00",
     "21000.00", "中国银行上海分行", "6217850000012345678", "财务经理"),
    ("accountant", "周婷", "财务部", "110105", "19941021", 46, (5, 9, 1), "10000.00", "800.00", "0", "10800.00",
     "10800.00", "招商银行上海分行", "6214830255667788", "会计"),
    (None, "赵磊", "仓储部", "340104", "19890730", 71, (6, 6, 1), "7800.00", "600.00", "300.00", "8400.00",
     "8400.00", "中国农业银行上海闵行支行", "6228480301245678871", "仓库主管；扣款为员工宿舍费"),
    (None, "孙丽", "仓储部", "430102", "19931205", 84, None, "16000.00", "700.00", "0", "16000.00",
     "16000.00", "中国邮政储蓄银行上海分行", "6217992000123456789", "仓储部经理，本月入职"),
]  # fmt: skip
# Special additional deductions in effect from January: member key → the form's fields.
SPECIAL = {
    "sales": {"housing_rent": "1500"},
    "finance": {"children": "2", "housing_loan": "1000", "elderly_support": "1500"},
    "accountant": {"continuing_education": "400"},
}
BONUS = ("manager", "36000.00")  # 全年一次性奖金, taxed separately

# Claims: (claimant key, state, title, customer?, lines, rejection reason). A line: (days ago,
# category, amount incl. VAT, deductible VAT rate or None, description).
CLAIMS: list[tuple[str, str, str, bool, list[tuple[int, str, str, str | None, str]], str | None]] = [
    ("manager", "paid", "北京客户拜访差旅费", False, [
        (40, "travel", "1326.00", "0.09", "高铁票 上海虹桥—北京南 二等座 往返"),
        (40, "travel", "1160.00", "0.06", "北京国贸商务酒店 住宿 2 晚"),
        (39, "transport", "86.00", None, "北京市内出租车"),
    ], None),
    ("sales2", "paid", "客户招待费（项目验收宴请）", True, [
        (21, "entertainment", "1280.00", None, "客户项目验收后宴请 4 人 餐费"),
    ], None),
    ("sales2", "rejected", "手机话费报销", False, [
        (25, "telecom", "298.00", None, "手机话费（上月）"),
    ], "话费已包含在每月工资的通讯补贴里，不能再报销；如果是出差期间的漫游费，请附上话费详单后重新提交。"),
    ("admin", "reviewed", "办公用品采购", False, [
        (9, "office", "650.00", "0.13", "A4 复印纸 10 箱"),
        (9, "office", "520.00", "0.13", "打印机墨盒 4 个"),
        (7, "office", "138.50", None, "文件夹、签字笔等文具"),
    ], None),
    ("accountant", "approved", "会计人员继续教育培训费", False, [
        (12, "training", "680.00", "0.06", "会计人员继续教育 线上课程"),
    ], None),
    ("sales", "submitted", "市内交通费（拜访客户）", True, [
        (6, "transport", "45.60", None, "滴滴出行 公司—浦东张江客户"),
        (6, "transport", "52.30", None, "滴滴出行 浦东张江—公司"),
        (3, "transport", "38.00", None, "出租车 公司—虹桥商务区客户"),
    ], None),
    ("owner", "submitted", "供应商洽谈商务宴请", False, [
        (4, "entertainment", "2360.00", None, "与上海精工设备洽谈年度维保合同 宴请 6 人"),
    ], None),
    ("finance", "draft", "苏州税务局办事交通费", False, [
        (2, "travel", "79.00", "0.09", "高铁票 上海—苏州 往返"),
        (2, "transport", "46.00", None, "苏州市内出租车"),
    ], None),
]  # fmt: skip
# The advance and the claim set off against it (its total exceeds the advance: the rest is paid).
ADVANCE = ("sales", "3000.00", "广州客户现场调研差旅借款")
ADVANCE_CLAIM = ("广州客户现场调研差旅费", [
    (16, "travel", "1586.00", "0.09", "高铁票 上海虹桥—广州南 二等座 往返"),
    (15, "travel", "1374.00", "0.06", "广州天河商务酒店 住宿 3 晚"),
    (14, "transport", "126.50", None, "广州市内出租车"),
])  # fmt: skip


def resident_id(region: str, birth: str, seq: int) -> str:
    """A 居民身份证号 with its check digit (python-stdnum's calculation)."""
    body = f"{region}{birth}{seq:03d}"
    number = body + ric.calc_check_digit(body + "0")
    return str(ric.validate(number))


def _vat(amount: str, rate: str | None) -> str:
    if rate is None:
        return "0"
    gross, r = Decimal(amount), Decimal(rate)
    return str((gross / (1 + r) * r).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _postable(tenant: Tenant, today: date) -> bool:
    locked = books.lock_date(tenant)
    return books.is_set_up(tenant) and not books.is_closed(today) and (locked is None or locked < today)


def _pay_account_id() -> int:
    bank = books.account_for("bank")
    return next(a.id for a in cash_accounts() if bank.id in (a.id, a.parent_id))


def _departments(actor: Membership) -> dict[str, int]:
    have = {d.name: d.id for d in db.session.scalars(select(Department))}
    for name in DEPARTMENTS:
        if name not in have:
            have[name] = books.save_department(actor, name).id
    return have


def seed_people(tenant: Tenant, members: list[Membership], today: date | None = None) -> dict[str, int]:
    """Inside the tenant's context, after seed_finance; the caller commits."""
    today = today or books.today_in(tenant)
    if not _postable(tenant, today):
        return {}
    by_key = {m.user.email.removesuffix(DEMO_DOMAIN): m for m in members if m.user.email.endswith(DEMO_DOMAIN)}
    if not all(k in by_key for k in ("owner", "admin", "manager", "sales", "sales2", "finance", "accountant")):
        return {}
    made = seed_payroll(tenant, by_key, today)
    made.update(seed_expenses(tenant, by_key, today))
    db.session.flush()  # the services add events and audit rows after their flush; write them in the tenant
    return made


# ---------------------------------------------------------------- payroll


def seed_payroll(tenant: Tenant, by_key: dict[str, Membership], today: date) -> dict[str, int]:
    if db.session.scalar(select(func.count(Employee.id))):
        return {}
    actor = by_key["owner"]
    if not can(actor, payroll.PERMISSION):
        return {}
    payroll.settings_for(tenant)
    departments = _departments(actor)
    first = today.replace(day=1)
    employees: dict[str, Employee] = {}
    for key, name, dept, region, birth, seq, hired, base, allow, deduct, si, hf, bank, account, notes in EMPLOYEES:
        hire = min(first + timedelta(days=9), today) if hired is None else date(today.year - hired[0], *hired[1:])
        data: dict[str, Any] = {
            "name": name, "member_id": by_key[key].id if key else None, "department_id": departments[dept],
            "resident_id": resident_id(region, birth, seq), "hire_date": hire, "base_salary": base,
            "allowances": allow, "deductions": deduct, "si_base": si, "hf_base": hf, "bonus_method": "separate",
            "bank_name": bank, "bank_account": account, "notes": notes,
        }  # fmt: skip
        employees[key or name] = payroll.save_employee(tenant, actor, data)
    for key, fields in SPECIAL.items():
        payroll.save_special_deduction(tenant, actor, employees[key], {"period": f"{today.year:04d}-01", **fields})
    period = f"{today.year:04d}-{today.month:02d}"
    payroll.save_bonus(tenant, actor, employees[BONUS[0]], {"period": period, "amount": BONUS[1]})
    # What the payroll job does (workers/jobs/payroll_run.py), then confirm and pay. The accrual is
    # dated the month's last day; the payment too, so wages payable never goes below zero.
    run = payroll.prepare_run(tenant, actor, period)
    run = payroll.compute_run(tenant, actor, run)
    run = payroll.confirm_run(tenant, actor, run)
    payroll.pay_run(tenant, actor, run, _pay_account_id(), payroll.month_end(today.year, today.month))
    return {"employees": len(employees), "payroll_runs": 1}


# ---------------------------------------------------------------- expense claims


def seed_expenses(tenant: Tenant, by_key: dict[str, Membership], today: date) -> dict[str, int]:
    if db.session.scalar(select(func.count(ExpenseClaim.id))) or db.session.scalar(
        select(func.count(ExpenseAdvance.id))
    ):
        return {}
    first = today.replace(day=1)
    categories = {c.key: c.id for c in expenses.ensure_categories()}
    departments = _departments(by_key["owner"])
    dept_of = {m: d for m, d in db.session.execute(select(Employee.member_id, Employee.department_id)) if m}
    reviewer, payer = by_key["accountant"], by_key["finance"]  # 会计审核, 财务经理付款
    invoice_seq = iter(range(1, 100))

    def pay_day(days_ago: int) -> date:
        """In the current month (the earlier ones are closed), never after today."""
        return max(first, today - timedelta(days=days_ago))

    def claim_input(
        who: Membership, title: str, customer: bool, lines: list[Any], advance_id: int | None
    ) -> expenses.ClaimInput:
        rows = []
        for ago, cat, amount, rate, text in lines:
            vat = _vat(amount, rate)
            number = f"{today.year % 100:02d}312000{next(invoice_seq):010d}" if rate else None
            rows.append({
                "expense_date": today - timedelta(days=ago), "category_id": categories[cat], "amount": amount,
                "input_vat": vat, "invoice_number": number, "description": text,
            })  # fmt: skip
        choices = expenses.customer_choices(who) if customer else []
        return expenses.ClaimInput(
            title=title, lines=rows, department_id=dept_of.get(who.id, departments["总经办"]),
            customer_id=choices[0][0] if choices else None, advance_id=advance_id,
        )  # fmt: skip

    def approver(who: Membership) -> Membership:
        return expenses.manager_of(who) or (payer if who.id != payer.id else reviewer)

    made: dict[str, int] = {}
    paid_on = iter((pay_day(10), pay_day(6), pay_day(3)))  # the set-off claim first, then the others
    # The advance first: paid before the trip, then the trip's claim set off against it.
    member, amount, purpose = by_key[ADVANCE[0]], ADVANCE[1], ADVANCE[2]
    adv = expenses.request_advance(tenant, member, {"amount": amount, "purpose": purpose})
    expenses.approve_advance(tenant, approver(member), adv)
    expenses.pay_advance(tenant, payer, adv, pay_day(18), _pay_account_id())
    plan = [(ADVANCE[0], "paid", ADVANCE_CLAIM[0], False, ADVANCE_CLAIM[1], None, adv.id)]
    plan += [(*c, None) for c in CLAIMS]
    for key, state, title, customer, lines, reason, advance_id in plan:
        who = by_key[key]
        claim = expenses.create_claim(tenant, who, claim_input(who, title, customer, lines, advance_id))
        made[state] = made.get(state, 0) + 1
        if state == "draft":
            continue
        expenses.submit_claim(tenant, who, claim)
        if state == "submitted":
            continue
        if state == "rejected":
            expenses.reject_claim(tenant, approver(who), claim, reason)
            continue
        expenses.approve_claim(tenant, approver(who), claim)
        if state == "approved":
            continue
        expenses.review_claim(tenant, reviewer if who.id != reviewer.id else payer, claim)
        if state == "reviewed":
            continue
        expenses.pay_claims(tenant, payer if who.id != payer.id else reviewer, [claim], next(paid_on))
    made["advances"] = 1
    return made
