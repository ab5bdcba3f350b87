"""Realistic Chinese demo customers for `flask seed demo` (idempotent: skips existing names)."""

from __future__ import annotations

import random

from sqlalchemy import select

from crm.db import db
from crm.sales import services
from crm.sales.models import Customer
from tenants.models import Membership

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
