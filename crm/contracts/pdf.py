"""The contract as a PDF, rendered in the request (a few pages; see crm.quotes.pdf for why this
is not a job). The letterhead macro and the CJK font stack keep the Chinese text readable."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, g, render_template

from crm.contracts.models import Contract
from crm.exports.pdf import render_pdf
from crm.money_words import to_capital


def contract_html(c: Contract) -> str:
    return render_template("contracts/contract.pdf.html", c=c, tenant=g.tenant, capital=to_capital(c.amount))


def contract_pdf(c: Contract) -> bytes:
    return render_pdf(contract_html(c))


def contract_pdf_response(c: Contract) -> Response:
    resp = Response(contract_pdf(c), mimetype="application/pdf")
    ascii_name = c.number.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    resp.headers["Content-Disposition"] = (
        f"inline; filename=\"{ascii_name}.pdf\"; filename*=UTF-8''{quote(c.number, safe='')}.pdf"
    )
    return resp
