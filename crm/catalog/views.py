"""Sales → Products: the catalogue list with filters, and the product form (products.manage)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm.catalog import services
from crm.catalog.forms import ProductForm
from crm.catalog.models import Product
from crm.db import db
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from roles.checks import require

bp = Blueprint("products", __name__, url_prefix="/w/<slug>/sales/products")


@bp.get("")
@require("sales.access")
def index():
    a = request.args
    active = {"1": True, "0": False, "all": None}.get(a.get("active", "1"), True)
    query = services.ProductQuery(
        q=(a.get("q") or "").strip()[:100] or None,
        category=a.get("category") or None,
        active=active,
        page=max(a.get("page", 1, type=int) or 1, 1),
    )
    rows, total = services.list_products(g.member, query)
    ctx = {
        "rows": rows,
        "total": total,
        "query": query,
        "active_arg": a.get("active", "1"),
        "categories": services.categories(),
        "pages": max((total + query.page_size - 1) // query.page_size, 1),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "product-table":
        return render_template("catalog/_table.html", **ctx)
    return render_template("catalog/index.html", **ctx)


def _save(form: ProductForm, product: Product | None):
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in services.PRODUCT_FIELDS}
        try:
            if product is None:
                product = services.create_product(g.member, values)
            else:
                services.update_product(g.member, product, values)
        except InvalidInput as err:
            db.session.rollback()
            for fld, msg in err.errors.items():
                if hasattr(form, fld):
                    getattr(form, fld).errors = [msg]
        else:
            db.session.commit()
            flash(_("Product “%(name)s” saved.", name=product.name), "success")
            return redirect(url_for("products.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("catalog/form.html", form=form, product=product), status


@bp.route("/new", methods=["GET", "POST"])
@require("products.manage")
def new():
    form = ProductForm()
    if request.method == "GET":
        form.vat_rate.data = "0.13"
    return _save(form, None)


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
@require("products.manage")
def edit(product_id: int):
    p = get_or_404(Product, product_id)
    data = {k: getattr(p, k) for k in services.PRODUCT_FIELDS}
    data.update(list_price=f"{p.list_price:.2f}", vat_rate=f"{p.vat_rate:.2f}")
    return _save(ProductForm(data=data), p)


@bp.post("/<int:product_id>/deactivate")
@require("products.manage")
def deactivate(product_id: int):
    p = get_or_404(Product, product_id)
    services.deactivate_product(g.member, p)
    db.session.commit()
    flash(_("Product “%(name)s” deactivated.", name=p.name), "success")
    return redirect(url_for("products.index"))
