from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from crm.choices import choices
from crm.workspace_settings.services import CURRENCIES, NAME_MAX, PATTERN_MAX, timezone_choices

MONTHS = [
    ("1", _l("January")), ("2", _l("February")), ("3", _l("March")), ("4", _l("April")),
    ("5", _l("May")), ("6", _l("June")), ("7", _l("July")), ("8", _l("August")),
    ("9", _l("September")), ("10", _l("October")), ("11", _l("November")), ("12", _l("December")),
]  # fmt: skip
CURRENCY_NAMES = {
    "CNY": _l("Chinese yuan (CNY)"),
    "HKD": _l("Hong Kong dollar (HKD)"),
    "USD": _l("US dollar (USD)"),
    "EUR": _l("Euro (EUR)"),
    "JPY": _l("Japanese yen (JPY)"),
    "GBP": _l("Pound sterling (GBP)"),
    "TWD": _l("New Taiwan dollar (TWD)"),
    "SGD": _l("Singapore dollar (SGD)"),
    "KRW": _l("South Korean won (KRW)"),
    "AUD": _l("Australian dollar (AUD)"),
    "CAD": _l("Canadian dollar (CAD)"),
    "CHF": _l("Swiss franc (CHF)"),
}
PATTERN_HELP = _l("Placeholders: {year} (2026), {yy} (26), {seq:04d} (0001, the running number, required).")


class WorkspaceSettingsForm(FlaskForm):
    name = StringField(_l("Workspace name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    # The service checks the choices (and says why), so the API and the page refuse alike.
    timezone = SelectField(
        _l("Time zone"),
        validate_choice=False,
        description=_l("Dates in lists, reports and filters follow this time zone."),
    )
    currency = SelectField(_l("Currency"), validate_choice=False)
    fiscal_year_start = SelectField(
        _l("Fiscal year starts in"),
        validate_choice=False,
        description=_l("Most companies in China start in January."),
    )
    numbering_quote = StringField(_l("Quote numbers"), validators=[Length(max=PATTERN_MAX)], description=PATTERN_HELP)
    numbering_contract = StringField(
        _l("Contract numbers"), validators=[Length(max=PATTERN_MAX)], description=PATTERN_HELP
    )
    numbering_order = StringField(_l("Order numbers"), validators=[Length(max=PATTERN_MAX)], description=PATTERN_HELP)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.timezone.choices = choices((z, z) for z in timezone_choices())
        self.currency.choices = choices((c, CURRENCY_NAMES[c]) for c in CURRENCIES)
        self.fiscal_year_start.choices = choices(MONTHS)

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "timezone": self.timezone.data,
            "currency": self.currency.data,
            "fiscal_year_start": self.fiscal_year_start.data,
            "numbering": {
                "quote": self.numbering_quote.data,
                "contract": self.numbering_contract.data,
                "order": self.numbering_order.data,
            },
        }
