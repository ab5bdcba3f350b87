"""The quote as a PDF, rendered in the request.

Not a job (DESIGN rule 6 is about work that may take more than about a second): one quote is
one or two A4 pages, which WeasyPrint renders in a few hundred milliseconds with the CJK font
already cached, and the user wants the file at once. crm.exports.pdf.render_pdf fetches only
from the app's static folder, so customer text in the template can never reach the network.
"""

from __future__ import annotations

from flask import Response, g, render_template

from crm.exports.pdf import render_pdf
from crm.money_words import to_capital
from crm.quotes.models import Quote


def quote_html(q: Quote) -> str:
    return render_template("quotes/quote.pdf.html", q=q, tenant=g.tenant, capital=to_capital(q.total_incl))


def quote_pdf(q: Quote) -> bytes:
    return render_pdf(quote_html(q))


def quote_pdf_response(q: Quote) -> Response:
    body = quote_pdf(q)
    name = f"{q.display_number}.pdf"
    resp = Response(body, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return resp
