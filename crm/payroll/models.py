"""Finance → payroll (工资): employees, the workspace's contribution rates, monthly special
additional deductions, one-off bonuses, and payroll runs with a line per employee.

A run belongs to one month (unique per workspace). While it is a draft it can be recomputed
any number of times (its lines are replaced); once confirmed it is locked and posted, and its
lines are the year-to-date basis of the later months' cumulative withholding.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.books.models import Department, JournalEntry
from crm.db import Model, Money, Timestamps, UTCDateTime
from tenants.models import Membership, TenantScoped

ZERO = Decimal("0.00")

RUN_STATUSES = ("draft", "confirmed", "paid")
RUN_STATUS_LABELS = {"draft": _l("Draft"), "confirmed": _l("Confirmed"), "paid": _l("Paid")}
RUN_STATUS_BADGES = {"draft": "secondary", "confirmed": "warning", "paid": "success"}
BONUS_METHOD_LABELS = {
    "separate": _l("Taxed separately (monthly table)"),
    "folded": _l("Folded into that month's wages"),
}

# The contributions: (key, label, has an employee part, is housing fund).
CONTRIBUTIONS = (
    ("pension", _l("Pension"), True, False),
    ("medical", _l("Medical"), True, False),
    ("unemployment", _l("Unemployment"), True, False),
    ("injury", _l("Work injury"), False, False),
    ("maternity", _l("Maternity"), False, False),
    ("housing", _l("Housing fund"), True, True),
)
# Shanghai-like defaults (fractions), editable per workspace: employee part, employer part.
DEFAULT_RATES = {
    "pension": (Decimal("0.08"), Decimal("0.16")),
    "medical": (Decimal("0.02"), Decimal("0.09")),
    "unemployment": (Decimal("0.005"), Decimal("0.005")),
    "injury": (Decimal("0"), Decimal("0.002")),
    "maternity": (Decimal("0"), Decimal("0.01")),
    "housing": (Decimal("0.07"), Decimal("0.07")),
}
DEFAULT_CITY = "上海"


def rate_column() -> Mapped[Decimal]:
    return mapped_column(Numeric(6, 4), default=Decimal("0"), nullable=False)


class PayrollSettings(TenantScoped, Timestamps, Model):
    """The workspace's contribution city and rates (one row per workspace, made on first use)."""

    __tablename__ = "payroll_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(40), default=DEFAULT_CITY, nullable=False)
    pension_employee: Mapped[Decimal] = rate_column()
    pension_employer: Mapped[Decimal] = rate_column()
    medical_employee: Mapped[Decimal] = rate_column()
    medical_employer: Mapped[Decimal] = rate_column()
    unemployment_employee: Mapped[Decimal] = rate_column()
    unemployment_employer: Mapped[Decimal] = rate_column()
    injury_employer: Mapped[Decimal] = rate_column()
    maternity_employer: Mapped[Decimal] = rate_column()
    housing_employee: Mapped[Decimal] = rate_column()
    housing_employer: Mapped[Decimal] = rate_column()

    def rate(self, key: str, part: str) -> Decimal:
        """A fraction; employees pay no work-injury or maternity insurance."""
        return Decimal(getattr(self, f"{key}_{part}", 0) or 0)


class Employee(TenantScoped, Timestamps, Model):
    __tablename__ = "employees"
    __table_args__ = (
        UniqueConstraint("tenant_id", "resident_id"),
        UniqueConstraint("tenant_id", "member_id"),
        Index("ix_employees_tenant_name", "tenant_id", "name"),
        Index("ix_employees_tenant_department", "tenant_id", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The member this employee signs in as, when they are a user ("My payslips").
    member_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    resident_id: Mapped[str] = mapped_column(String(18), nullable=False)  # 居民身份证号, compact, upper-case
    bank_name: Mapped[str | None] = mapped_column(String(120))
    bank_account: Mapped[str | None] = mapped_column(String(40))
    hire_date: Mapped[date] = mapped_column(Date, nullable=False)
    leave_date: Mapped[date | None] = mapped_column(Date)
    base_salary: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    # Recurring every month: allowances add to gross pay, deductions (e.g. 餐费) reduce it.
    allowances: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    deductions: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    si_base: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # 社保缴费基数
    hf_base: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # 公积金缴存基数
    bonus_method: Mapped[str] = mapped_column(String(10), default="separate", nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)

    member: Mapped[Membership | None] = relationship()
    department: Mapped[Department | None] = relationship()

    def employed_in(self, year: int, month: int) -> bool:
        """Employed for at least part of the month."""
        first = date(year, month, 1)
        if (self.hire_date.year, self.hire_date.month) > (year, month):
            return False
        return self.leave_date is None or self.leave_date >= first


class SpecialDeduction(TenantScoped, Timestamps, Model):
    """Monthly special additional deductions (专项附加扣除) declared by an employee, in effect
    from a month until a later declaration replaces them."""

    __tablename__ = "payroll_special_deductions"
    __table_args__ = (UniqueConstraint("tenant_id", "employee_id", "year", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[int] = mapped_column(Integer, nullable=False)
    children_education: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    infant_care: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    elderly_support: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    housing_loan: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    housing_rent: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    continuing_education: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)

    employee: Mapped[Employee] = relationship()

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def total(self) -> Decimal:
        return (self.children_education + self.infant_care + self.elderly_support + self.housing_loan
                + self.housing_rent + self.continuing_education)  # fmt: skip


class Bonus(TenantScoped, Timestamps, Model):
    """A year-end one-off bonus (全年一次性奖金) paid with a month's payroll."""

    __tablename__ = "payroll_bonuses"
    __table_args__ = (UniqueConstraint("tenant_id", "employee_id", "year", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)

    employee: Mapped[Employee] = relationship()

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class PayrollRun(TenantScoped, Timestamps, Model):
    __tablename__ = "payroll_runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "month"),
        Index("ix_payroll_runs_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="draft", nullable=False)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job_records.id", ondelete="SET NULL"))
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    employee_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    total_gross: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # wages + bonuses
    total_employee_si_hf: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    total_tax: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    total_net: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    total_employer: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    accrual_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    payment_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))

    accrual_entry: Mapped[JournalEntry | None] = relationship(foreign_keys=[accrual_entry_id])
    payment_entry: Mapped[JournalEntry | None] = relationship(foreign_keys=[payment_entry_id])
    lines: Mapped[list[PayrollLine]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="PayrollLine.position"
    )

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"


class PayrollLine(TenantScoped, Model):
    """One employee's pay for the run's month (工资条), with the year-to-date figures the
    withholding was computed from."""

    __tablename__ = "payroll_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "run_id", "employee_id"),
        Index("ix_payroll_lines_tenant_employee", "tenant_id", "employee_id", "year", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_runs.id", ondelete="CASCADE"), nullable=False)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="RESTRICT"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Copies of the run's month, so the year-to-date sums need no join.
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[int] = mapped_column(Integer, nullable=False)
    employee_name: Mapped[str] = mapped_column(String(60), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    base_salary: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    allowances: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    deductions: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    bonus: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    bonus_method: Mapped[str] = mapped_column(String(10), default="separate", nullable=False)
    gross: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # wages (+ a folded bonus)
    pension_employee: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    medical_employee: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    unemployment_employee: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    housing_employee: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    si_hf_employee: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    special_additional: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    taxable: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # this month's share
    months_employed: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    # A hire or leave during the month: base, allowances and deductions are paid for these
    # calendar days of the month's (social insurance and housing fund are due for the whole month).
    days_paid: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    days_in_month: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    cumulative_gross: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    cumulative_basic: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    cumulative_si_hf: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    cumulative_special_additional: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    cumulative_taxable: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    cumulative_tax_due: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    cumulative_withheld: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # incl. this month
    tax: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # on wages
    bonus_tax: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # separate bonus only
    net: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    pension_employer: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    medical_employer: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    unemployment_employer: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    injury_employer: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    maternity_employer: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    housing_employer: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    si_employer: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    bank_name: Mapped[str | None] = mapped_column(String(120))
    bank_account: Mapped[str | None] = mapped_column(String(40))

    run: Mapped[PayrollRun] = relationship(back_populates="lines")
    employee: Mapped[Employee] = relationship()
    department: Mapped[Department | None] = relationship()

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def total_pay(self) -> Decimal:
        """Gross wages plus a separately taxed bonus: what the employer owes before withholdings."""
        return self.gross + (self.bonus if self.bonus_method == "separate" else ZERO)

    @property
    def is_partial_month(self) -> bool:
        return self.days_paid < self.days_in_month

    @property
    def total_tax(self) -> Decimal:
        return self.tax + self.bonus_tax

    @property
    def employer_total(self) -> Decimal:
        return self.si_employer + self.housing_employer
