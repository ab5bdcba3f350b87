"""Realistic Chinese demo data for `flask seed demo`: customers and contacts, then the whole sales flow
(idempotent: what exists is skipped)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crm.db import db, to_money, utcnow
from crm.numbering import next_number
from crm.sales import services
from crm.sales.models import Customer
from tenants.models import Membership, Tenant

CITIES = [
    ("北京市", "北京"), ("上海市", "上海"), ("广东省", "广州"), ("广东省", "深圳"), ("浙江省", "杭州"),
    ("江苏省", "苏州"), ("四川省", "成都"), ("湖北省", "武汉"), ("重庆市", "重庆"), ("山东省", "青岛"),
]  # fmt: skip
WORDS = [
    "百川",
    "华信",
    "瑞丰",
    "启明",
    "恒通",
    "鼎盛",
    "蓝海",
    "金石",
    "远航",
    "嘉禾",
    "星辰",
    "中科",
    "博雅",
    "天成",
    "宏图",
]
TRADES = [
    ("科技", "软件和信息技术"),
    ("贸易", "批发和零售"),
    ("机械", "制造业"),
    ("食品", "食品加工"),
    ("物流", "交通运输"),
    ("建材", "建筑业"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛", "明", "超", "霞"]
TITLES = [
    ("总经理", "总经办"),
    ("采购经理", "采购部"),
    ("财务总监", "财务部"),
    ("技术主管", "技术部"),
    ("采购专员", "采购部"),
]
SOURCES = ["展会", "老客户介绍", "官网", "电话开发", "招投标"]
TAGS = ["重点客户", "华东", "续约", "价格敏感", "新客户", "政府项目"]


def seed_customers(members: list[Membership], count: int = 36, seed: int = 2026) -> int:
    rng = random.Random(seed)
    sales = [m for m in members if {"sales", "sales_manager"} & set(m.roles)]
    existing = set(db.session.scalars(select(Customer.name)))
    created = 0
    for i in range(count):
        province, city = CITIES[i % len(CITIES)]
        word = WORDS[(i * 7) % len(WORDS)]
        trade, industry = TRADES[i % len(TRADES)]
        name = f"{city}{word}{trade}有限公司"
        if name in existing:
            continue
        existing.add(name)
        owner = sales[i % len(sales)] if sales and i % 6 else None  # every sixth in the public pool
        values = {
            "name": name,
            "short_name": word + trade,
            "industry": industry,
            "level": "ABC"[i % 3],
            "source": SOURCES[i % len(SOURCES)],
            "province": province,
            "city": city,
            "address": f"{city}市{rng.choice(['高新区', '经开区', '滨江区', '浦东新区'])}{rng.randint(1, 399)}号",
            "phone": f"0{rng.randint(10, 99)}-{rng.randint(60000000, 89999999)}",
            "status": ["potential", "active", "active", "dormant"][i % 4],
            "owner_id": owner.id if owner else None,
        }
        actor = owner or members[0]
        c = services.create_customer(
            actor, services.CustomerInput(values=values, tags=rng.sample(TAGS, k=i % 3), confirm_duplicates=True)
        )
        boss = None
        for j, (title, dept) in enumerate(TITLES[: 2 + i % 3]):
            person = rng.choice(SURNAMES) + rng.choice(GIVEN) + ("" if j % 2 else rng.choice(GIVEN))
            contact = services.save_contact(
                actor,
                c,
                {
                    "name": person,
                    "title": title,
                    "department": dept,
                    "mobile": f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                    "is_primary": j == 0,
                    "reports_to_id": boss.id if boss and j else None,
                },
            )
            boss = boss or contact
        created += 1
    db.session.flush()
    return created


# --- the whole sales flow: opportunities, follow-ups, tasks, quotes, contracts, orders --------
#
# Dates are relative to the day of the first seed, so a fresh demo always has something rotting,
# something due today, a contract about to end and follow-ups this week. Each opportunity is
# keyed by its title; its quote, contract and order are only created together with it, so a
# second run adds nothing. Amounts follow the quote arithmetic (crm.catalog.pricing, which
# crm.quotes.services re-exports): order and contract amounts are the quote's totals, and a
# payment plan's instalments add up to its contract.

# (title, stage index in DEFAULT_STAGES, amount, days until expected close, days in stage, lost reason)
DEMO_OPPORTUNITIES = [
    ("CRM 系统选型咨询", 0, "58000.00", 75, 3, None),
    ("仓储条码改造", 0, "126000.00", 120, 25, None),  # rotting: 10% stage rots after 14 days
    ("年度 IT 运维外包", 1, "240000.00", 45, 9, None),
    ("门店收银系统升级", 1, "88500.00", 60, 40, None),  # rotting
    ("华南区经销商门户", 2, "312000.00", 30, 6, None),
    ("生产线 MES 二期", 2, "486000.00", 100, 35, None),  # rotting
    ("集团财务共享平台", 3, "735000.00", 20, 12, None),
    ("冷链监控传感器采购", 3, "164800.00", 150, 4, None),
    ("办公网络安全加固", 4, "96000.00", -5, 5, None),  # won this month
    ("ERP 实施与培训", 4, "268000.00", -40, 40, None),  # won earlier (→ active contract)
    ("物流调度系统", 4, "158000.00", -400, 400, None),  # won a year ago (→ expired contract)
    ("展厅数字大屏", 5, "73000.00", -12, 12, "价格过高"),
    ("客服呼叫中心", 5, "215000.00", -30, 30, "选择了竞争对手"),
]

# (opportunity title, quote status, [(description, unit, quantity, unit price, discount %, VAT rate)])
DEMO_QUOTES = [
    (
        "华南区经销商门户",
        "draft",
        [
            ("经销商门户软件许可", "套", "1", "180000.00", "0", "0.13"),
            ("实施服务", "人天", "120", "1100.00", "0", "0.06"),
        ],
    ),
    (
        "集团财务共享平台",
        "sent",
        [
            ("财务共享平台许可", "套", "1", "520000.00", "5", "0.13"),
            ("数据迁移服务", "人天", "150", "1450.00", "0", "0.06"),
        ],
    ),
    (
        "办公网络安全加固",
        "accepted",
        [("下一代防火墙", "台", "2", "32000.00", "0", "0.13"), ("安全加固服务", "人天", "25", "1200.00", "0", "0.06")],
    ),
    (
        "ERP 实施与培训",
        "accepted",
        [("ERP 软件许可", "用户", "40", "4200.00", "10", "0.13"), ("实施与培训", "人天", "90", "1100.00", "0", "0.06")],
    ),
    (
        "物流调度系统",
        "accepted",
        [
            ("调度系统许可", "套", "1", "98000.00", "0", "0.13"),
            ("车载终端", "台", "30", "1800.00", "0", "0.13"),
            ("部署服务", "人天", "8", "1050.00", "0", "0.06"),
        ],
    ),
]

# (opportunity title, contract status, days since signed, days from today to the end)
DEMO_CONTRACTS = [
    ("办公网络安全加固", "pending", 0, 365),
    ("ERP 实施与培训", "active", 345, 20),
    ("物流调度系统", "expired", 395, -30),
]

# (opportunity title, delivery status, from the contract or only the quote)
DEMO_ORDERS = [
    ("ERP 实施与培训", "partial", "contract"),
    ("物流调度系统", "delivered", "contract"),
    ("办公网络安全加固", "pending", "quote"),
]

DEMO_FOLLOWUPS = [
    ("call", "电话沟通需求范围，客户希望下周看演示"),
    ("visit", "上门拜访采购经理，确认预算在审批中"),
    ("wechat", "微信发送产品资料和案例"),
    ("meeting", "与技术团队开会讨论接口方案"),
    ("email", "邮件发送报价说明和付款方式"),
]

DEMO_TASKS = [
    ("回电确认演示时间", -3),
    ("发送修改后的报价单", -1),
    ("准备合同续签材料", 0),
    ("约财务总监面谈", 0),
    ("跟进回款计划第二期", 2),
    ("整理季度客户回访名单", 6),
]


def _demo_customers(members: list[Membership]) -> list[tuple[Membership, list[Customer]]]:
    """Each rep with the customers they own (the seeded ones first), for a believable spread."""
    reps = [m for m in members if {"sales", "sales_manager"} & set(m.roles)]
    owned = db.session.scalars(select(Customer).where(Customer.owner_id.is_not(None)).order_by(Customer.id)).all()
    return [(rep, [c for c in owned if c.owner_id == rep.id]) for rep in reps]


def seed_sales_flow(tenant: Tenant, members: list[Membership], now: datetime | None = None) -> dict[str, int]:
    """Opportunities across the default pipeline, follow-ups, tasks, quotes, contracts and orders.

    Idempotent: what exists (by opportunity title, follow-up summary per customer, task title)
    is left alone. Call inside the tenant's context, after ``seed_customers``; the caller commits.
    """
    from crm.pipeline import services as pipeline
    from crm.pipeline.models import LostReason, Opportunity

    now = now or utcnow()
    today = now.date()
    spread = [(rep, cs) for rep, cs in _demo_customers(members) if cs]
    if not spread:
        return {"opportunities": 0, "followups": 0, "tasks": 0, "quotes": 0, "contracts": 0, "orders": 0}
    manager = next((m for m in members if "sales_manager" in m.roles), spread[0][0])
    pipe = pipeline.ensure_default_pipeline(members[0])
    stages = pipe.stages
    reasons = {r.name: r for r in db.session.scalars(select(LostReason))}
    existing = set(db.session.scalars(select(Opportunity.title)))
    made: dict[str, Opportunity] = {}
    for i, (title, stage_ix, amount, close_in, in_stage, reason) in enumerate(DEMO_OPPORTUNITIES):
        if title in existing:
            continue
        rep, customers = spread[i % len(spread)]
        customer = customers[(i // len(spread)) % len(customers)]
        stage = stages[stage_ix]
        opp = pipeline.create_opportunity(
            rep,
            pipeline.OpportunityInput(
                values={"customer_id": customer.id, "title": title, "amount": amount, "owner_id": rep.id,
                        "expected_close": today + timedelta(days=close_in), "source": SOURCES[i % len(SOURCES)],
                        "next_step": None if stage.kind != "open" else "安排下一次会议"},
                stage_id=stage.id,
                lost_reason_id=reasons[reason].id if reason and reason in reasons else None,
            ),
        )  # fmt: skip
        entered = now - timedelta(days=in_stage)
        opp.stage_entered_at = entered
        opp.closed_at = entered if stage.kind != "open" else None
        if stage.kind == "lost" and reason == "选择了竞争对手":
            opp.competitor = "某国际软件厂商"
        made[title] = opp
    counts = {"opportunities": len(made)}
    counts["followups"] = _seed_followups(spread, now)
    counts["tasks"] = _seed_tasks(spread, today)
    quotes = _seed_quotes(tenant, made, today)
    contracts = _seed_contracts(tenant, made, quotes, manager, now)
    counts["quotes"], counts["contracts"] = len(quotes), len(contracts)
    counts["orders"] = _seed_orders(tenant, made, quotes, contracts, today)
    db.session.flush()
    return counts


def _seed_followups(spread: list[tuple[Membership, list[Customer]]], now: datetime) -> int:
    """Follow-ups over the last four weeks, and a few every day of this week so far."""
    from crm.activities.models import FollowUp
    from crm.activities.services import log_followup

    seen = set(db.session.execute(select(FollowUp.customer_id, FollowUp.summary)).tuples())
    days_ago = [0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 24, 27]
    made = 0
    for i, ago in enumerate(days_ago):
        rep, customers = spread[i % len(spread)]
        customer = customers[i % len(customers)]
        kind, summary = DEMO_FOLLOWUPS[i % len(DEMO_FOLLOWUPS)]
        if (customer.id, summary) in seen:
            continue
        seen.add((customer.id, summary))
        if ago == 0:  # today: moments ago, so it is today in any time zone
            when = now - timedelta(seconds=i + 1)
        else:
            when = (now - timedelta(days=ago)).replace(hour=2 + i % 7, minute=(i * 13) % 60, second=0, microsecond=0)
        log_followup(rep, customer, {"kind": kind, "summary": summary, "occurred_at": when})
        made += 1
    return made


def _seed_tasks(spread: list[tuple[Membership, list[Customer]]], today: date) -> int:
    from crm.activities.models import Task
    from crm.activities.services import create_task

    titles = set(db.session.scalars(select(Task.title)))
    made = 0
    for i, (title, due_in) in enumerate(DEMO_TASKS):
        if title in titles:
            continue
        rep, customers = spread[i % len(spread)]
        create_task(rep, {"title": title, "due_on": today + timedelta(days=due_in), "assignee_id": rep.id,
                          "customer_id": customers[(i + 1) % len(customers)].id})  # fmt: skip
        made += 1
    return made


def _seed_quotes(tenant: Tenant, made: dict[str, Any], today: date) -> dict[str, Any]:
    from crm.catalog.pricing import line_amounts, totals
    from crm.quotes.models import Quote, QuoteLine

    out = {}
    for title, status, lines in DEMO_QUOTES:
        opp = made.get(title)
        if opp is None:
            continue
        issue = (opp.closed_at.date() - timedelta(days=7)) if opp.closed_at else today - timedelta(days=3)
        q = Quote(number=next_number(tenant, "quote", issue), version=1, customer_id=opp.customer_id,
                  created_by_id=opp.owner_id, status=status, prices_include_tax=False, issue_date=issue,
                  valid_until=issue + timedelta(days=30), opportunity_id=opp.id,
                  terms="报价有效期 30 天；含税价，增值税专用发票。",
                  sent_at=None if status == "draft" else datetime.combine(issue, datetime.min.time(), UTC))  # fmt: skip
        amounts = []
        for pos, (desc, unit, qty, price, disc, rate) in enumerate(lines):
            a = line_amounts(Decimal(qty), Decimal(price), Decimal(rate), Decimal(disc))
            amounts.append(a)
            q.lines.append(QuoteLine(position=pos, description=desc, unit=unit, quantity=Decimal(qty),
                                     unit_price=Decimal(price), discount_pct=Decimal(disc), tax_rate=Decimal(rate),
                                     amount_excl=a.excl, tax=a.tax, amount_incl=a.incl))  # fmt: skip
        t = totals(amounts)
        q.total_excl, q.total_tax, q.total_incl = t.excl, t.tax, t.incl
        db.session.add(q)
        out[title] = q
    db.session.flush()
    return out


def _payment_plan(amount: Decimal, signed: date) -> list[tuple[date, Decimal, str]]:
    """30 % on signing, 60 % on acceptance, the rest (so it adds up exactly) after a year."""
    first = to_money(amount * Decimal("0.30"))
    second = to_money(amount * Decimal("0.60"))
    return [
        (signed + timedelta(days=10), first, "预付款 30%"),
        (signed + timedelta(days=90), second, "验收款 60%"),
        (signed + timedelta(days=365), amount - first - second, "质保金"),
    ]


def _seed_contracts(
    tenant: Tenant, made: dict[str, Any], quotes: dict[str, Any], manager: Membership, now: datetime
) -> dict[str, Any]:
    from crm.contracts.models import Contract, ContractPayment, ContractReview

    today = now.date()
    out = {}
    for title, status, signed_ago, ends_in in DEMO_CONTRACTS:
        opp, quote = made.get(title), quotes.get(title)
        if opp is None or quote is None:
            continue
        signed = today - timedelta(days=signed_ago)
        ends = today + timedelta(days=ends_in)
        submitted = now - timedelta(days=max(signed_ago, 1))
        c = Contract(number=next_number(tenant, "contract", signed), title=f"{title}合同",
                     customer_id=opp.customer_id, quote_id=quote.id, opportunity_id=opp.id, owner_id=opp.owner_id,
                     created_by_id=opp.owner_id, status=status, signed_on=signed if status != "pending" else None,
                     starts_on=signed, ends_on=ends, amount=quote.total_incl, terms="按付款计划付款；验收后开具发票。",
                     submitted_at=submitted)  # fmt: skip
        for pos, (due, amount, note) in enumerate(_payment_plan(quote.total_incl, signed)):
            c.payments.append(ContractPayment(position=pos, due_on=due, amount=amount, note=note))
        c.reviews.append(ContractReview(member_id=opp.owner_id, decision="submitted", created_at=submitted))
        if status != "pending":
            c.approved_by_id, c.approved_at = manager.id, submitted + timedelta(hours=3)
            c.reviews.append(ContractReview(member_id=manager.id, decision="approved", comment="同意",
                                            created_at=c.approved_at))  # fmt: skip
        db.session.add(c)
        out[title] = c
    db.session.flush()
    return out


def _seed_orders(
    tenant: Tenant, made: dict[str, Any], quotes: dict[str, Any], contracts: dict[str, Any], today: date
) -> int:
    from crm.orders.models import Order, OrderLine

    n = 0
    for title, delivery, source in DEMO_ORDERS:
        quote = quotes.get(title)
        contract = contracts.get(title) if source == "contract" else None
        if quote is None or (source == "contract" and contract is None):
            continue
        customer = db.session.get(Customer, quote.customer_id)
        day = contract.signed_on if contract is not None and contract.signed_on else today
        o = Order(number=next_number(tenant, "order", day), customer_id=quote.customer_id,
                  contract_id=contract.id if contract is not None else None, quote_id=quote.id,
                  owner_id=made[title].owner_id, created_by_id=made[title].owner_id, order_date=day,
                  province=customer.province if customer else None, city=customer.city if customer else None,
                  delivery_status=delivery, prices_include_tax=quote.prices_include_tax,
                  total_excl=quote.total_excl, total_tax=quote.total_tax, total_incl=quote.total_incl)  # fmt: skip
        for ln in quote.lines:
            delivered = {"delivered": ln.quantity, "partial": (ln.quantity / 2).quantize(Decimal("1."))}.get(
                delivery, Decimal("0")
            )
            o.lines.append(OrderLine(position=ln.position, description=ln.description, unit=ln.unit,
                                     quantity=ln.quantity, delivered_quantity=delivered, unit_price=ln.unit_price,
                                     discount_pct=ln.discount_pct, tax_rate=ln.tax_rate, amount_excl=ln.amount_excl,
                                     tax=ln.tax, amount_incl=ln.amount_incl))  # fmt: skip
        db.session.add(o)
        n += 1
    db.session.flush()
    return n
