"""Role × route matrix: every URL rule of the app, and the status each kind of visitor gets.

Read a row as: "<METHOD> <rule>: anonymous → …, owner → …, …". For POST rows the request
carries a valid CSRF token and an empty body (or a harmless target), so what is measured is
the permission answer: 404 for anyone outside a workspace, 403 for a missing permission
inside one, 302 to sign-in for account pages, 401 for the API without a token.

A later issue that adds a route must add its row here: test_every_route_is_in_the_matrix
fails until it does.
"""

from __future__ import annotations

import pytest

from tests.areas import MEMBER_ROLES, ROLES, build_all, everyone, members, merged, row  # noqa: F401
from tests.helpers import bearer, post

CONTACT = "/w/<slug>/sales/customers/<int:customer_id>/contacts/<int:contact_id>"
OPP = "/w/<slug>/sales/pipeline/opportunities/<int:opportunity_id>"
PSET = "/w/<slug>/sales/pipeline/settings/<int:pipeline_id>"
STAGE = PSET + "/stages/<int:stage_id>"
API_PIPE = "/api/v1/pipelines/<int:pipeline_id>"
PRODUCT = "/w/<slug>/sales/products/<int:product_id>"
QUOTE = "/w/<slug>/sales/quotes/<int:quote_id>"
ORDER = "/w/<slug>/sales/orders/<int:order_id>"
CONTRACT = "/w/<slug>/sales/contracts/<int:contract_id>"
API_CONTRACT = "/api/v1/contracts/<int:contract_id>"
WREP = "/w/<slug>/office/reports"
WREP_ONE = WREP + "/<int:work_report_id>"
API_WREP = "/api/v1/work-reports"
API_WREP_ONE = API_WREP + "/<int:work_report_id>"
KB = "/w/<slug>/office/kb"
KB_ART = KB + "/articles/<int:article_id>"
KB_CAT = KB + "/categories/<int:category_id>"
API_KB_ART = "/api/v1/kb/articles/<int:article_id>"
API_KB_CAT = "/api/v1/kb/categories/<int:category_id>"
ANN = "/w/<slug>/office/announcements"
IMP = "/w/<slug>/sales/imports"
IMP_ONE = IMP + "/<int:batch_id>"
API_IMP_ONE = "/api/v1/imports/<int:batch_id>"
MONEY = "/w/<slug>/finance/money/<int:payment_id>"
API_RECEIPT = "/api/v1/receipts/<int:payment_id>"
API_PAYMENT = "/api/v1/payments/<int:payment_id>"
BOOKS = "/w/<slug>/finance/books"
JE = BOOKS + "/entries/<int:entry_id>"
API_JE = "/api/v1/journal-entries/<int:journal_entry_id>"
FINREP = "/w/<slug>/finance/reports"
FIN = "/w/<slug>/finance"
FIN_INV = FIN + "/invoices/<int:invoice_id>"
FIN_BILL = FIN + "/bills/<int:bill_id>"
FIN_SUP = FIN + "/suppliers/<int:supplier_id>"
API_INV = "/api/v1/invoices/<int:invoice_id>"
API_BILL = "/api/v1/bills/<int:bill_id>"
API_ANN = "/api/v1/announcements/<int:announcement_id>"

# fmt: off
#                                                    anon owner admin mgr sales finance
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    # -- outside any workspace: accounts
    ("GET", "/"):                                    row(200, 302, 302, 302, 302, 302),
    ("GET", "/login"):                               everyone(200),
    ("POST", "/login"):                              everyone(200),  # empty form: errors shown
    ("POST", "/logout"):                             everyone(302),
    ("GET", "/signup"):                              everyone(200),
    ("POST", "/signup"):                             everyone(200),
    ("GET", "/workspaces"):                          members(200, anonymous=302),
    ("GET", "/password/forgot"):                     everyone(200),
    ("POST", "/password/forgot"):                    everyone(200),
    ("GET", "/password/reset/<token>"):              everyone(400),  # not a valid token
    ("POST", "/password/reset/<token>"):             everyone(400),
    ("GET", "/account/profile"):                     members(200, anonymous=302),
    ("POST", "/account/profile"):                    members(302, anonymous=302),  # nothing changed, saved
    ("GET", "/account/password"):                    members(200, anonymous=302),
    ("POST", "/account/password"):                   members(200, anonymous=302),
    ("POST", "/lang/<code>"):                        everyone(302),
    ("GET", "/invitations/<token>"):                 everyone(200),  # members see "wrong person"
    ("POST", "/invitations/<token>"):                everyone(200),
    # -- the workspace shell
    ("GET", "/w/<slug>/"):                           members(200),
    ("GET", "/w/<slug>/sales/"):                     row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/office/"):                    members(200),
    ("GET", "/w/<slug>/finance/"):                   row(404, 200, 200, 403, 403, 200),
    ("GET", "/w/<slug>/search"):                     members(200),
    # -- office → announcements (target: the owner's published announcement for everyone, no
    #    acknowledgement asked, so acknowledging answers "not needed"); writing is for managers
    ("GET", ANN):                                    members(200),
    ("GET", ANN + "/unread"):                        members(200),
    ("GET", ANN + "/new"):                           row(404, 200, 200, 403, 403, 403),
    ("POST", ANN + "/new"):                          row(404, 400, 400, 403, 403, 403),  # no title
    ("GET", ANN + "/<int:announcement_id>"):         members(200),
    ("GET", ANN + "/<int:announcement_id>/edit"):    row(404, 200, 200, 403, 403, 403),
    ("POST", ANN + "/<int:announcement_id>/edit"):   row(404, 400, 400, 403, 403, 403),  # no title
    ("POST", ANN + "/<int:announcement_id>/delete"): row(404, 302, 302, 403, 403, 403),
    ("GET", ANN + "/<int:announcement_id>/receipts"): row(404, 200, 200, 403, 403, 403),
    ("POST", ANN + "/<int:announcement_id>/remind"): row(404, 302, 302, 403, 403, 403),
    ("GET", ANN + "/<int:announcement_id>/acknowledge"): members(302),  # none asked: to the page
    ("POST", ANN + "/<int:announcement_id>/acknowledge"): members(302),  # none asked: flash, back
    ("GET", "/api/v1/announcements"):                row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/announcements"):               row(401, 422, 422, 403, 403, 403),  # empty body
    ("GET", API_ANN):                                row(401, 200, 200, 200, 200, 200),
    ("PATCH", API_ANN):                              row(401, 200, 200, 403, 403, 403),  # empty patch
    ("DELETE", API_ANN):                             row(401, 204, 204, 403, 403, 403),
    ("POST", API_ANN + "/read"):                     row(401, 200, 200, 200, 200, 200),
    ("POST", API_ANN + "/acknowledge"):              row(401, 422, 422, 422, 422, 422),  # none asked
    ("GET", API_ANN + "/receipts"):                  row(401, 200, 200, 403, 403, 403),
    ("POST", API_ANN + "/remind"):                   row(401, 200, 200, 403, 403, 403),
    # -- notifications (each member opens their own)
    ("GET", "/w/<slug>/notifications"):              members(200),
    ("GET", "/w/<slug>/notifications/bell"):         members(200),
    ("POST", "/w/<slug>/notifications/read"):        members(302),
    ("POST", "/w/<slug>/notifications/<int:note_id>/open"): members(302),
    # -- API tokens (each member revokes their own)
    ("GET", "/w/<slug>/account/tokens"):             members(200),
    ("POST", "/w/<slug>/account/tokens"):            members(200),  # empty name: errors shown
    ("POST", "/w/<slug>/account/tokens/<int:token_id>/revoke"): members(302),
    # -- jobs (the owner's finished export)
    ("GET", "/w/<slug>/jobs/<int:job_id>"):          row(404, 200, 200, 403, 403, 403),
    ("GET", "/w/<slug>/jobs/<int:job_id>/download"): row(404, 200, 200, 403, 403, 403),
    # -- settings → members (target: the sales rep)
    ("GET", "/w/<slug>/settings/members"):           row(404, 200, 200, 403, 403, 403),
    ("POST", "/w/<slug>/settings/members/invite"):   row(404, 400, 400, 403, 403, 403),
    ("GET", "/w/<slug>/settings/members/<int:member_id>/edit"):  row(404, 200, 200, 403, 403, 403),
    ("POST", "/w/<slug>/settings/members/<int:member_id>/edit"): row(404, 400, 400, 403, 403, 403),
    ("POST", "/w/<slug>/settings/members/<int:member_id>/deactivate"): row(404, 302, 302, 403, 403, 403),
    ("POST", "/w/<slug>/settings/members/<int:member_id>/reactivate"): row(404, 302, 302, 403, 403, 403),
    ("POST", "/w/<slug>/settings/members/<int:member_id>/transfer-ownership"): row(404, 302, 403, 403, 403, 403),
    ("POST", "/w/<slug>/settings/members/invitations/<int:invitation_id>/revoke"): row(404, 302, 302, 403, 403, 403),
    ("POST", "/w/<slug>/settings/members/export"):   row(404, 302, 302, 302, 403, 302),
    # -- settings → letterhead (an empty form is a valid one: saved as it was)
    ("GET", "/w/<slug>/settings/letterhead"):        row(404, 200, 200, 403, 403, 403),
    ("POST", "/w/<slug>/settings/letterhead"):       row(404, 302, 302, 403, 403, 403),
    ("POST", "/w/<slug>/settings/letterhead/logo/remove"): row(404, 302, 302, 403, 403, 403),
    # -- settings → landing (to the first section the member may open), workspace settings
    #    (an empty form lacks the name: 400) and the audit log (target: the owner's entry)
    ("GET", "/w/<slug>/settings"):                   row(404, 302, 302, 403, 403, 403),
    ("GET", "/w/<slug>/settings/workspace"):         row(404, 200, 200, 403, 403, 403),
    ("POST", "/w/<slug>/settings/workspace"):        row(404, 400, 400, 403, 403, 403),
    ("GET", "/w/<slug>/settings/workspace/preview"): row(404, 200, 200, 403, 403, 403),
    ("GET", "/w/<slug>/settings/audit"):             row(404, 200, 200, 403, 403, 403),
    ("GET", "/w/<slug>/settings/audit/<int:entry_id>"): row(404, 200, 200, 403, 403, 403),
    ("POST", "/w/<slug>/settings/audit/export"):     row(404, 302, 302, 403, 403, 403),
    # -- sales → customers (target: the sales rep's customer and its contact; finance has no
    #    Sales workspace; merging is for owners and admins)
    ("GET", "/w/<slug>/sales/customers"):            row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/customers/options"):    row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/customers/new"):        row(404, 200, 200, 200, 200, 403),
    ("POST", "/w/<slug>/sales/customers/new"):       row(404, 400, 400, 400, 400, 403),  # no name
    ("GET", "/w/<slug>/sales/customers/<int:customer_id>"):      row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/customers/<int:customer_id>/edit"): row(404, 200, 200, 200, 200, 403),
    ("POST", "/w/<slug>/sales/customers/<int:customer_id>/edit"): row(404, 302, 302, 302, 302, 403),  # unchanged
    ("POST", "/w/<slug>/sales/customers/<int:customer_id>/archive"): row(404, 302, 302, 302, 302, 403),
    ("POST", "/w/<slug>/sales/customers/<int:customer_id>/collaborators"): row(404, 302, 302, 302, 302, 403),
    # -- sales → public pool (target: the sales rep's customer, so a claim is refused with a flash)
    ("GET", "/w/<slug>/sales/pool"):                 row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/pool/rules"):           row(404, 200, 200, 403, 403, 403),
    ("POST", "/w/<slug>/sales/pool/rules"):          row(404, 400, 400, 403, 403, 403),  # empty form
    ("POST", "/w/<slug>/sales/pool/run"):            row(404, 302, 302, 403, 403, 403),
    ("POST", "/w/<slug>/sales/pool/<int:customer_id>/claim"):   row(404, 302, 302, 302, 302, 403),
    ("POST", "/w/<slug>/sales/pool/<int:customer_id>/release"): row(404, 400, 400, 400, 400, 403),  # no reason
    ("POST", "/w/<slug>/sales/pool/<int:customer_id>/assign"):  row(404, 400, 400, 400, 403, 403),  # no member
    ("POST", "/api/v1/customers/<int:customer_id>/claim"):   row(401, 422, 422, 422, 422, 403),  # owned already
    ("POST", "/api/v1/customers/<int:customer_id>/release"): row(401, 422, 422, 422, 422, 403),  # no reason
    ("POST", "/api/v1/customers/<int:customer_id>/assign"):  row(401, 422, 422, 422, 403, 403),  # no member
    ("GET", "/api/v1/customers/pool-due"):           row(401, 200, 200, 200, 403, 403),
    # -- sales → business registration look-up
    ("GET", "/w/<slug>/sales/registry/import"):      row(404, 200, 200, 403, 403, 403),
    ("POST", "/w/<slug>/sales/registry/import"):     row(404, 400, 400, 403, 403, 403),  # no file
    ("GET", "/w/<slug>/sales/registry/lookup"):      row(404, 200, 200, 200, 200, 403),
    ("GET", "/api/v1/registry/lookup"):              row(401, 422, 422, 422, 422, 403),  # no q
    ("GET", "/w/<slug>/sales/customers/<int:customer_id>/contacts/new"):  row(404, 200, 200, 200, 200, 403),
    ("POST", "/w/<slug>/sales/customers/<int:customer_id>/contacts/new"): row(404, 400, 400, 400, 400, 403),
    ("GET", CONTACT + "/edit"):                      row(404, 200, 200, 200, 200, 403),
    ("POST", CONTACT + "/edit"):                     row(404, 302, 302, 302, 302, 403),  # unchanged
    ("POST", CONTACT + "/delete"):                   row(404, 302, 302, 302, 302, 403),
    ("GET", "/w/<slug>/sales/customers/merge"):      row(404, 200, 200, 403, 403, 403),
    # -- sales → follow-ups and tasks (target: the sales rep's follow-up on their customer, the
    #    task its next date created, and its attachment; finance cannot read the record → 404)
    ("POST", "/w/<slug>/sales/customers/<int:customer_id>/followups"): row(404, 400, 400, 400, 400, 403),  # empty
    ("POST", "/w/<slug>/sales/followups/<int:followup_id>/delete"): row(404, 302, 302, 302, 302, 403),
    ("GET", "/w/<slug>/sales/tasks"):                row(404, 200, 200, 200, 200, 403),
    ("POST", "/w/<slug>/sales/tasks/<int:task_id>/done"): row(404, 302, 302, 302, 302, 403),
    ("GET", "/w/<slug>/files/<int:attachment_id>"):  row(404, 200, 200, 200, 200, 404),
    ("POST", "/w/<slug>/sales/customers/merge"):     row(404, 400, 400, 403, 403, 403),  # nothing chosen
    # -- sales → pipeline (target: the sales rep's opportunity; managing lost reasons is for
    #    sales managers, admins and owners)
    ("GET", "/w/<slug>/sales/pipeline"):             row(404, 302, 302, 302, 302, 403),
    ("GET", "/w/<slug>/sales/pipeline/<int:pipeline_id>"): row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/pipeline/<int:pipeline_id>/stages/<int:stage_id>/cards"):
        row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/pipeline/forecast"):    row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/pipeline/lost-reasons"):  row(404, 200, 200, 200, 403, 403),
    ("POST", "/w/<slug>/sales/pipeline/lost-reasons"): row(404, 400, 400, 400, 403, 403),  # no name
    ("GET", "/w/<slug>/sales/pipeline/opportunities/new"):  row(404, 200, 200, 200, 200, 403),
    ("POST", "/w/<slug>/sales/pipeline/opportunities/new"): row(404, 400, 400, 400, 400, 403),  # empty
    ("GET", OPP):                                    row(404, 200, 200, 200, 200, 403),
    ("GET", OPP + "/edit"):                          row(404, 200, 200, 200, 200, 403),
    ("POST", OPP + "/edit"):                         row(404, 302, 302, 302, 302, 403),  # unchanged
    ("POST", OPP + "/move"):                         row(404, 422, 422, 422, 422, 403),  # no stage
    ("POST", OPP + "/delete"):                       row(404, 302, 302, 302, 302, 403),
    # -- sales → pipeline settings (pipeline.manage; target: the default pipeline, whose first
    #    stage holds the sales rep's opportunity)
    ("GET", "/w/<slug>/sales/pipeline/settings"):    row(404, 200, 200, 200, 403, 403),
    ("POST", "/w/<slug>/sales/pipeline/settings"):   row(404, 400, 400, 400, 403, 403),  # no name
    ("GET", PSET):                                   row(404, 200, 200, 200, 403, 403),
    ("POST", PSET):                                  row(404, 400, 400, 400, 403, 403),  # no name
    ("POST", PSET + "/default"):                     row(404, 302, 302, 302, 403, 403),  # already default
    ("POST", PSET + "/delete"):                      row(404, 400, 400, 400, 403, 403),  # holds an opportunity
    ("POST", PSET + "/stages"):                      row(404, 400, 400, 400, 403, 403),  # no name
    ("POST", PSET + "/stages/order"):                row(404, 400, 400, 400, 403, 403),  # no order
    ("POST", STAGE):                                 row(404, 400, 400, 400, 403, 403),  # no name
    ("POST", STAGE + "/move"):                       row(404, 400, 400, 400, 403, 403),  # no direction
    ("POST", STAGE + "/delete"):                     row(404, 400, 400, 400, 403, 403),  # holds an opportunity
    # -- sales → products (target: the owner's product; managing is for sales managers, admins
    #    and owners) and quotes (target: the sales rep's draft quote for their customer)
    ("GET", "/w/<slug>/sales/products"):             row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/products/new"):         row(404, 200, 200, 200, 403, 403),
    ("POST", "/w/<slug>/sales/products/new"):        row(404, 400, 400, 400, 403, 403),  # empty form
    ("GET", PRODUCT + "/edit"):                      row(404, 200, 200, 200, 403, 403),
    ("POST", PRODUCT + "/edit"):                     row(404, 302, 302, 302, 403, 403),  # saved as it was
    ("POST", PRODUCT + "/deactivate"):               row(404, 302, 302, 302, 403, 403),
    ("GET", "/w/<slug>/sales/quotes"):               row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/quotes/new"):           row(404, 200, 200, 200, 200, 403),
    ("POST", "/w/<slug>/sales/quotes/new"):          row(404, 400, 400, 400, 400, 403),  # empty form
    ("GET", QUOTE):                                  row(404, 200, 200, 200, 200, 403),
    ("GET", QUOTE + "/edit"):                        row(404, 200, 200, 200, 200, 403),
    ("POST", QUOTE + "/edit"):                       row(404, 400, 400, 400, 400, 403),  # no lines
    ("POST", QUOTE + "/send"):                       row(404, 302, 302, 302, 302, 403),
    ("POST", QUOTE + "/outcome"):                    row(404, 302, 302, 302, 302, 403),  # nothing chosen
    ("POST", QUOTE + "/reissue"):                    row(404, 302, 302, 302, 302, 403),  # a draft: refused
    ("GET", QUOTE + "/pdf"):                         row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/quotes/line"):          row(404, 200, 200, 200, 200, 403),  # a blank row
    ("POST", "/w/<slug>/sales/quotes/preview"):      row(404, 200, 200, 200, 200, 403),  # totals of nothing
    # -- sales → orders (target: the sales rep's pending order, by hand, for their customer)
    ("GET", "/w/<slug>/sales/orders"):               row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/orders/new"):           row(404, 200, 200, 200, 200, 403),
    ("POST", "/w/<slug>/sales/orders/new"):          row(404, 400, 400, 400, 400, 403),  # empty form
    ("GET", ORDER):                                  row(404, 200, 200, 200, 200, 403),
    ("GET", ORDER + "/edit"):                        row(404, 200, 200, 200, 200, 403),
    ("POST", ORDER + "/edit"):                       row(404, 400, 400, 400, 400, 403),  # no date, no lines
    ("GET", ORDER + "/delivery"):                    row(404, 200, 200, 200, 200, 403),
    ("POST", ORDER + "/delivery"):                   row(404, 302, 302, 302, 302, 403),  # nothing delivered yet
    ("GET", ORDER + "/cancel"):                      row(404, 200, 200, 200, 200, 403),
    ("POST", ORDER + "/cancel"):                     row(404, 400, 400, 400, 400, 403),  # no reason
    ("POST", ORDER + "/delete"):                     row(404, 302, 302, 302, 302, 403),  # pending: deleted
    # -- sales → contracts (target: the sales rep's draft contract for their customer; approving,
    #    rejecting and re-dating need contracts.approve: sales managers, admins, owners)
    ("GET", "/w/<slug>/sales/contracts"):            row(404, 200, 200, 200, 200, 403),
    ("GET", "/w/<slug>/sales/contracts/new"):        row(404, 200, 200, 200, 200, 403),
    ("POST", "/w/<slug>/sales/contracts/new"):       row(404, 400, 400, 400, 400, 403),  # empty form
    ("GET", CONTRACT):                               row(404, 200, 200, 200, 200, 403),
    ("GET", CONTRACT + "/edit"):                     row(404, 200, 200, 200, 200, 403),
    ("POST", CONTRACT + "/edit"):                    row(404, 400, 400, 400, 400, 403),  # no title, no plan
    ("POST", CONTRACT + "/submit"):                  row(404, 302, 302, 302, 302, 403),
    ("POST", CONTRACT + "/approve"):                 row(404, 302, 302, 302, 403, 403),  # a draft: refused
    ("POST", CONTRACT + "/reject"):                  row(404, 302, 302, 302, 403, 403),  # a draft: refused
    ("POST", CONTRACT + "/terminate"):               row(404, 302, 302, 302, 302, 403),  # a draft: refused
    ("POST", CONTRACT + "/redate"):                  row(404, 302, 302, 302, 403, 403),  # a draft: refused
    ("POST", CONTRACT + "/delete"):                  row(404, 302, 302, 302, 302, 403),
    ("GET", CONTRACT + "/pdf"):                      row(404, 200, 200, 200, 200, 403),
    # -- office → work reports (target: the sales rep's submitted daily report of today, sent to
    #    their manager; only the author changes it; rules and the overview need reports.manage)
    ("GET", WREP):                                   members(200),
    ("GET", WREP + "/new"):                          row(404, 200, 200, 200, 302, 200),  # rep: today's exists
    ("POST", WREP + "/new"):                         members(400),  # empty form
    ("GET", WREP_ONE):                               row(404, 200, 200, 200, 200, 404),
    ("GET", WREP_ONE + "/edit"):                     row(404, 403, 403, 403, 200, 404),
    ("POST", WREP_ONE + "/edit"):                    row(404, 403, 403, 403, 400, 404),  # submitted: not emptied
    ("POST", WREP_ONE + "/submit"):                  row(404, 403, 403, 403, 302, 404),  # already: refused
    ("POST", WREP_ONE + "/delete"):                  row(404, 403, 403, 403, 302, 404),  # submitted: refused
    ("POST", WREP_ONE + "/comments"):                row(404, 302, 302, 302, 302, 404),  # empty: refused
    ("POST", WREP_ONE + "/attachments"):             row(404, 403, 403, 403, 302, 404),  # no file: refused
    ("GET", WREP + "/rules"):                        row(404, 200, 200, 200, 403, 403),
    ("POST", WREP + "/rules"):                       row(404, 400, 400, 400, 403, 403),  # empty form
    ("GET", WREP + "/overview"):                     row(404, 200, 200, 200, 403, 403),
    ("POST", WREP + "/overview/remind"):             row(404, 302, 302, 302, 403, 403),  # no period: refused
    ("POST", WREP + "/overview/export"):             row(404, 302, 302, 302, 403, 403),  # to the job page
    # -- /api/v1 (bearer token of each member; anonymous sends none)
    ("GET", "/api/v1/openapi.json"):                 everyone(200),
    ("GET", "/api/v1/me"):                           members(200, anonymous=401),
    ("GET", "/api/v1/settings"):                     row(401, 200, 200, 403, 403, 403),
    ("PATCH", "/api/v1/settings"):                   row(401, 200, 200, 403, 403, 403),  # {}: nothing changes
    ("GET", "/api/v1/audit"):                        row(401, 200, 200, 403, 403, 403),
    ("GET", "/api/v1/audit/<int:entry_id>"):         row(401, 200, 200, 403, 403, 403),
    ("GET", "/api/v1/members"):                      members(200, anonymous=401),
    ("POST", "/api/v1/exports"):                     row(401, 422, 422, 422, 403, 422),  # empty body
    ("GET", "/api/v1/jobs/<int:job_id>"):            row(401, 200, 200, 403, 403, 403),
    ("GET", "/api/v1/jobs/<int:job_id>/result"):     row(401, 200, 200, 403, 403, 403),
    ("GET", "/api/v1/customers"):                    row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/customers"):                   row(401, 422, 422, 422, 422, 403),  # empty body
    ("GET", "/api/v1/customers/<int:customer_id>"):  row(401, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/customers/<int:customer_id>"): row(401, 200, 200, 200, 200, 403),  # empty patch
    ("DELETE", "/api/v1/customers/<int:customer_id>"): row(401, 204, 204, 204, 204, 403),  # archives
    ("GET", "/api/v1/customers/<int:customer_id>/contacts"):  row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/customers/<int:customer_id>/contacts"): row(401, 422, 422, 422, 422, 403),
    ("GET", "/api/v1/contacts/<int:contact_id>"):    row(401, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/contacts/<int:contact_id>"):  row(401, 200, 200, 200, 200, 403),
    ("DELETE", "/api/v1/contacts/<int:contact_id>"): row(401, 204, 204, 204, 204, 403),
    ("GET", "/api/v1/followups"):                    row(401, 422, 422, 422, 422, 403),  # no customer_id
    ("POST", "/api/v1/followups"):                   row(401, 422, 422, 422, 422, 403),  # empty body
    ("GET", "/api/v1/followups/<int:followup_id>"):  row(401, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/followups/<int:followup_id>"): row(401, 200, 200, 200, 200, 403),  # empty patch
    ("DELETE", "/api/v1/followups/<int:followup_id>"): row(401, 204, 204, 204, 204, 403),
    ("GET", "/api/v1/followups/<int:followup_id>/attachments"): row(401, 200, 200, 200, 200, 403),
    ("GET", "/api/v1/tasks"):                        row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/tasks"):                       row(401, 422, 422, 422, 422, 403),  # no title
    ("GET", "/api/v1/tasks/<int:task_id>"):          row(401, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/tasks/<int:task_id>"):        row(401, 200, 200, 200, 200, 403),  # empty patch
    ("DELETE", "/api/v1/tasks/<int:task_id>"):       row(401, 204, 204, 204, 204, 403),
    ("GET", "/api/v1/attachments/<int:attachment_id>"): row(401, 200, 200, 200, 200, 403),
    ("GET", "/api/v1/pipelines"):                    row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/pipelines"):                   row(401, 422, 422, 422, 403, 403),  # empty body
    ("GET", API_PIPE):                               row(401, 200, 200, 200, 200, 403),
    ("PATCH", API_PIPE):                             row(401, 200, 200, 200, 403, 403),  # empty patch
    ("DELETE", API_PIPE):                            row(401, 422, 422, 422, 403, 403),  # holds an opportunity
    ("POST", API_PIPE + "/stages"):                  row(401, 422, 422, 422, 403, 403),  # empty body
    ("PATCH", API_PIPE + "/stages/<int:stage_id>"):  row(401, 200, 200, 200, 403, 403),  # empty patch
    ("DELETE", API_PIPE + "/stages/<int:stage_id>"): row(401, 422, 422, 422, 403, 403),  # holds an opportunity
    ("GET", "/api/v1/opportunities"):                row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/opportunities"):               row(401, 422, 422, 422, 422, 403),  # empty body
    ("GET", "/api/v1/opportunities/<int:opportunity_id>"):    row(401, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/opportunities/<int:opportunity_id>"):  row(401, 200, 200, 200, 200, 403),  # empty patch
    ("DELETE", "/api/v1/opportunities/<int:opportunity_id>"): row(401, 204, 204, 204, 204, 403),
    ("POST", "/api/v1/opportunities/<int:opportunity_id>/move"): row(401, 422, 422, 422, 422, 403),  # no stage
    ("GET", "/api/v1/forecast"):                     row(401, 200, 200, 200, 200, 403),
    ("GET", "/api/v1/products"):                     row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/products"):                    row(401, 422, 422, 422, 403, 403),  # empty body
    ("GET", "/api/v1/products/<int:product_id>"):    row(401, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/products/<int:product_id>"):  row(401, 200, 200, 200, 403, 403),  # empty patch
    ("DELETE", "/api/v1/products/<int:product_id>"): row(401, 204, 204, 204, 403, 403),  # deactivates
    ("GET", "/api/v1/quotes"):                       row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/quotes"):                      row(401, 422, 422, 422, 422, 403),  # empty body
    ("GET", "/api/v1/quotes/<int:quote_id>"):        row(401, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/quotes/<int:quote_id>"):      row(401, 200, 200, 200, 200, 403),  # empty patch
    ("POST", "/api/v1/quotes/<int:quote_id>/send"):  row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/quotes/<int:quote_id>/reissue"): row(401, 422, 422, 422, 422, 403),  # a draft
    ("GET", "/api/v1/quotes/<int:quote_id>/pdf"):    row(401, 200, 200, 200, 200, 403),
    ("GET", "/api/v1/orders"):                       row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/orders"):                      row(401, 422, 422, 422, 422, 403),  # empty body
    ("GET", "/api/v1/orders/<int:order_id>"):        row(401, 200, 200, 200, 200, 403),
    ("PATCH", "/api/v1/orders/<int:order_id>"):      row(401, 200, 200, 200, 200, 403),  # empty patch
    ("DELETE", "/api/v1/orders/<int:order_id>"):     row(401, 204, 204, 204, 204, 403),  # pending: deleted
    ("POST", "/api/v1/orders/<int:order_id>/deliveries"): row(401, 422, 422, 422, 422, 403),  # no lines
    ("POST", "/api/v1/orders/<int:order_id>/cancel"): row(401, 422, 422, 422, 422, 403),  # no reason
    ("GET", "/api/v1/contracts"):                    row(401, 200, 200, 200, 200, 403),
    ("POST", "/api/v1/contracts"):                   row(401, 422, 422, 422, 422, 403),  # empty body
    ("GET", API_CONTRACT):                           row(401, 200, 200, 200, 200, 403),
    ("PATCH", API_CONTRACT):                         row(401, 200, 200, 200, 200, 403),  # empty patch
    ("DELETE", API_CONTRACT):                        row(401, 204, 204, 204, 204, 403),  # a draft
    ("POST", API_CONTRACT + "/submit"):              row(401, 200, 200, 200, 200, 403),
    ("POST", API_CONTRACT + "/approve"):             row(401, 422, 422, 422, 403, 403),  # a draft
    ("POST", API_CONTRACT + "/reject"):              row(401, 422, 422, 422, 403, 403),  # a draft
    ("POST", API_CONTRACT + "/terminate"):           row(401, 422, 422, 422, 422, 403),  # a draft
    ("POST", API_CONTRACT + "/redate"):              row(401, 422, 422, 422, 403, 403),  # no date
    ("GET", API_CONTRACT + "/pdf"):                  row(401, 200, 200, 200, 200, 403),
    ("GET", API_WREP):                               members(200, anonymous=401),
    ("POST", API_WREP):                              members(422, anonymous=401),  # empty body
    ("GET", API_WREP_ONE):                           row(401, 200, 200, 200, 200, 404),
    ("PATCH", API_WREP_ONE):                         row(401, 403, 403, 403, 200, 404),  # empty patch
    ("DELETE", API_WREP_ONE):                        row(401, 403, 403, 403, 422, 404),  # submitted
    ("POST", API_WREP_ONE + "/submit"):              row(401, 403, 403, 403, 422, 404),  # already
    ("GET", API_WREP_ONE + "/comments"):             row(401, 200, 200, 200, 200, 404),
    ("POST", API_WREP_ONE + "/comments"):            row(401, 422, 422, 422, 422, 404),  # empty body
    ("GET", API_WREP_ONE + "/receipts"):             row(401, 200, 200, 200, 200, 404),
    ("GET", API_WREP + "/overview"):                 row(401, 200, 200, 200, 403, 403),
    ("GET", API_WREP + "/rules"):                    row(401, 200, 200, 200, 403, 403),
    ("PUT", API_WREP + "/rules"):                    row(401, 200, 200, 200, 403, 403),  # nothing changed
    # -- office → knowledge base (target: a published article in a category open to everyone, with
    #    two versions and a link to the rep's customer; writing needs kb.manage: owner, admin, manager)
    ("GET", KB):                                     members(200),
    ("GET", KB + "/categories"):                     row(404, 200, 200, 200, 403, 403),
    ("POST", KB + "/categories"):                    row(404, 400, 400, 400, 403, 403),  # no name
    ("GET", KB_CAT + "/edit"):                       row(404, 200, 200, 200, 403, 403),
    ("POST", KB_CAT + "/edit"):                      row(404, 400, 400, 400, 403, 403),  # no name
    ("POST", KB_CAT + "/delete"):                    row(404, 303, 303, 303, 403, 403),  # holds an article
    ("GET", KB + "/articles/new"):                   row(404, 200, 200, 200, 403, 403),
    ("POST", KB + "/articles/new"):                  row(404, 400, 400, 400, 403, 403),  # empty form
    ("GET", KB_ART):                                 members(200),
    ("GET", KB_ART + "/edit"):                       row(404, 200, 200, 200, 403, 403),
    ("POST", KB_ART + "/edit"):                      row(404, 400, 400, 400, 403, 403),  # empty form
    ("POST", KB_ART + "/delete"):                    row(404, 302, 302, 302, 403, 403),
    ("GET", KB_ART + "/history"):                    members(200),
    ("POST", KB_ART + "/restore"):                   row(404, 303, 303, 303, 403, 403),  # no version
    ("POST", KB_ART + "/files"):                     row(404, 303, 303, 303, 403, 403),  # no file
    ("POST", KB + "/links"):                         members(400),  # empty form
    ("POST", KB + "/links/<int:link_id>/delete"):    row(404, 302, 302, 302, 302, 403),  # finance: no customers
    ("GET", "/api/v1/kb/categories"):                row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/kb/categories"):               row(401, 422, 422, 422, 403, 403),  # no name
    ("GET", API_KB_CAT):                             row(401, 200, 200, 200, 200, 200),
    ("PATCH", API_KB_CAT):                           row(401, 200, 200, 200, 403, 403),  # empty patch
    ("DELETE", API_KB_CAT):                          row(401, 422, 422, 422, 403, 403),  # holds an article
    ("GET", "/api/v1/kb/articles"):                  row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/kb/articles"):                 row(401, 422, 422, 422, 403, 403),  # empty body
    ("GET", API_KB_ART):                             row(401, 200, 200, 200, 200, 200),
    ("PATCH", API_KB_ART):                           row(401, 200, 200, 200, 403, 403),  # empty patch
    ("DELETE", API_KB_ART):                          row(401, 204, 204, 204, 403, 403),
    ("GET", API_KB_ART + "/versions"):               row(401, 200, 200, 200, 200, 200),
    ("GET", API_KB_ART + "/versions/diff"):          row(401, 422, 422, 422, 422, 422),  # no from/to
    ("POST", API_KB_ART + "/restore"):               row(401, 422, 422, 422, 403, 403),  # no version
    ("GET", API_KB_ART + "/links"):                  row(401, 200, 200, 200, 200, 200),
    ("POST", API_KB_ART + "/links"):                 row(401, 422, 422, 422, 422, 422),  # empty body
    ("DELETE", API_KB_ART + "/links/<int:link_id>"): row(401, 204, 204, 204, 204, 403),  # finance: no customers
    # -- finance → invoicing (targets: finance's draft invoice, draft bill and supplier; the rep's
    #    pending order and draft contract for the one-click queue buttons). finance.access only.
    ("GET", FIN + "/invoices"):                      row(404, 200, 200, 403, 403, 200),
    ("GET", FIN + "/invoices/new"):                  row(404, 200, 200, 403, 403, 200),
    ("POST", FIN + "/invoices/new"):                 row(404, 400, 400, 403, 403, 400),  # empty form
    ("GET", FIN_INV):                                row(404, 200, 200, 403, 403, 200),
    ("GET", FIN_INV + "/edit"):                      row(404, 200, 200, 403, 403, 200),
    ("POST", FIN_INV + "/edit"):                     row(404, 400, 400, 403, 403, 400),  # empty form
    ("POST", FIN_INV + "/post"):                     row(404, 302, 302, 403, 403, 302),
    ("GET", FIN_INV + "/reverse"):                   row(404, 200, 200, 403, 403, 200),
    ("POST", FIN_INV + "/reverse"):                  row(404, 400, 400, 403, 403, 400),  # empty form
    ("POST", FIN_INV + "/delete"):                   row(404, 302, 302, 403, 403, 302),  # a draft: deleted
    ("GET", FIN_INV + "/pdf"):                       row(404, 200, 200, 403, 403, 200),
    ("GET", FIN + "/bills"):                         row(404, 200, 200, 403, 403, 200),
    ("GET", FIN + "/bills/new"):                     row(404, 200, 200, 403, 403, 200),
    ("POST", FIN + "/bills/new"):                    row(404, 400, 400, 403, 403, 400),  # empty form
    ("GET", FIN_BILL):                               row(404, 200, 200, 403, 403, 200),
    ("GET", FIN_BILL + "/edit"):                     row(404, 200, 200, 403, 403, 200),
    ("POST", FIN_BILL + "/edit"):                    row(404, 400, 400, 403, 403, 400),  # empty form
    ("POST", FIN_BILL + "/post"):                    row(404, 302, 302, 403, 403, 302),
    ("GET", FIN_BILL + "/reverse"):                  row(404, 200, 200, 403, 403, 200),
    ("POST", FIN_BILL + "/reverse"):                 row(404, 400, 400, 403, 403, 400),  # empty form
    ("POST", FIN_BILL + "/delete"):                  row(404, 302, 302, 403, 403, 302),  # a draft: deleted
    ("GET", FIN_BILL + "/pdf"):                      row(404, 200, 200, 403, 403, 200),
    ("GET", FIN + "/to-invoice"):                    row(404, 200, 200, 403, 403, 200),
    ("POST", FIN + "/to-invoice/orders/<int:order_id>"): row(404, 302, 302, 403, 403, 302),  # draft made
    ("POST", FIN + "/to-invoice/contracts/<int:contract_id>"): row(404, 302, 302, 403, 403, 302),  # refused
    ("GET", FIN + "/suppliers"):                     row(404, 200, 200, 403, 403, 200),
    ("GET", FIN + "/suppliers/new"):                 row(404, 200, 200, 403, 403, 200),
    ("POST", FIN + "/suppliers/new"):                row(404, 400, 400, 403, 403, 400),  # empty form
    ("GET", FIN_SUP):                                row(404, 200, 200, 403, 403, 200),
    ("GET", FIN_SUP + "/edit"):                      row(404, 200, 200, 403, 403, 200),
    ("POST", FIN_SUP + "/edit"):                     row(404, 400, 400, 403, 403, 400),  # empty form
    ("POST", FIN + "/reports/<key>/export"):         row(404, 400, 400, 403, 403, 400),  # no format: refused
    ("GET", "/api/v1/suppliers"):                    row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/suppliers"):                   row(401, 422, 422, 403, 403, 422),  # empty body
    ("GET", "/api/v1/suppliers/<int:supplier_id>"):  row(401, 200, 200, 403, 403, 200),
    ("PATCH", "/api/v1/suppliers/<int:supplier_id>"): row(401, 200, 200, 403, 403, 200),  # empty patch
    ("GET", "/api/v1/invoices"):                     row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/invoices"):                    row(401, 422, 422, 403, 403, 422),  # empty body
    ("GET", "/api/v1/invoices/queue"):               row(401, 200, 200, 403, 403, 200),
    ("GET", API_INV):                                row(401, 200, 200, 403, 403, 200),
    ("PATCH", API_INV):                              row(401, 200, 200, 403, 403, 200),  # empty patch
    ("DELETE", API_INV):                             row(401, 204, 204, 403, 403, 204),  # a draft
    ("POST", API_INV + "/post"):                     row(401, 200, 200, 403, 403, 200),
    ("POST", API_INV + "/reverse"):                  row(401, 422, 422, 403, 403, 422),  # a draft
    ("GET", "/api/v1/bills"):                        row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/bills"):                       row(401, 422, 422, 403, 403, 422),  # empty body
    ("GET", API_BILL):                               row(401, 200, 200, 403, 403, 200),
    ("PATCH", API_BILL):                             row(401, 200, 200, 403, 403, 200),  # empty patch
    ("DELETE", API_BILL):                            row(401, 204, 204, 403, 403, 204),  # a draft
    ("POST", API_BILL + "/post"):                    row(401, 200, 200, 403, 403, 200),
    ("POST", API_BILL + "/reverse"):                 row(401, 422, 422, 403, 403, 422),  # a draft
    # -- finance → reports (pages with no parameters show this month / today; statement: the form)
    ("GET", FINREP + "/"):                           row(404, 200, 200, 403, 403, 200),
    ("GET", FINREP + "/trial-balance"):              row(404, 200, 200, 403, 403, 200),
    ("GET", FINREP + "/general-ledger"):             row(404, 200, 200, 403, 403, 200),
    ("GET", FINREP + "/journal"):                    row(404, 200, 200, 403, 403, 200),
    ("GET", FINREP + "/balance-sheet"):              row(404, 200, 200, 403, 403, 200),
    ("GET", FINREP + "/income-statement"):           row(404, 200, 200, 403, 403, 200),
    ("GET", FINREP + "/ar-aging"):                   row(404, 200, 200, 403, 403, 200),
    ("GET", FINREP + "/ap-aging"):                   row(404, 200, 200, 403, 403, 200),
    ("GET", FINREP + "/statement"):                  row(404, 200, 200, 403, 403, 200),
    ("GET", "/api/v1/reports/trial-balance"):        row(401, 200, 200, 403, 403, 200),
    ("GET", "/api/v1/reports/general-ledger"):       row(401, 200, 200, 403, 403, 200),
    ("GET", "/api/v1/reports/journal"):              row(401, 200, 200, 403, 403, 200),
    ("GET", "/api/v1/reports/balance-sheet"):        row(401, 200, 200, 403, 403, 200),
    ("GET", "/api/v1/reports/income-statement"):     row(401, 200, 200, 403, 403, 200),
    ("GET", "/api/v1/reports/ar-aging"):             row(401, 200, 200, 403, 403, 200),
    ("GET", "/api/v1/reports/ap-aging"):             row(401, 200, 200, 403, 403, 200),
    ("GET", "/api/v1/reports/statement"):            row(401, 422, 422, 403, 403, 422),  # no customer
    # -- finance → books (set up from 2026-01; target: finance's balanced draft entry dated today;
    #    period 2026-01: its checks pass, so close starts the job; it is not closed, so reopen is refused)
    ("GET", BOOKS + "/setup"):                       row(404, 302, 302, 403, 403, 302),  # set up: to settings
    ("POST", BOOKS + "/setup"):                      row(404, 302, 302, 403, 403, 302),
    ("GET", BOOKS + "/settings"):                    row(404, 200, 200, 403, 403, 200),
    ("POST", BOOKS + "/settings"):                   row(404, 302, 302, 403, 403, 403),  # books.post_locked
    ("GET", BOOKS + "/accounts"):                    row(404, 200, 200, 403, 403, 200),
    ("POST", BOOKS + "/accounts"):                   row(404, 400, 400, 403, 403, 400),  # empty form
    ("POST", BOOKS + "/accounts/<int:account_id>"):  row(404, 302, 302, 403, 403, 302),  # no name: refused
    ("GET", BOOKS + "/departments"):                 row(404, 200, 200, 403, 403, 200),
    ("POST", BOOKS + "/departments"):                row(404, 400, 400, 403, 403, 400),  # empty form
    ("POST", BOOKS + "/departments/<int:department_id>"): row(404, 302, 302, 403, 403, 302),
    ("GET", BOOKS + "/entries"):                     row(404, 200, 200, 403, 403, 200),
    ("GET", BOOKS + "/entries/new"):                 row(404, 200, 200, 403, 403, 200),
    ("POST", BOOKS + "/entries/new"):                row(404, 400, 400, 403, 403, 400),  # empty form
    ("GET", JE):                                     row(404, 200, 200, 403, 403, 200),
    ("GET", JE + "/edit"):                           row(404, 200, 200, 403, 403, 200),
    ("POST", JE + "/edit"):                          row(404, 400, 400, 403, 403, 400),  # empty form
    ("POST", JE + "/post"):                          row(404, 302, 302, 403, 403, 302),
    ("POST", JE + "/delete"):                        row(404, 302, 302, 403, 403, 302),
    ("POST", JE + "/reverse"):                       row(404, 302, 302, 403, 403, 302),  # a draft: refused
    ("POST", JE + "/attachments"):                   row(404, 302, 302, 403, 403, 302),  # no file
    ("GET", JE + "/voucher.pdf"):                    row(404, 200, 200, 403, 403, 200),
    ("GET", BOOKS + "/periods"):                     row(404, 200, 200, 403, 403, 200),
    ("GET", BOOKS + "/periods/<period_key>"):        row(404, 200, 200, 403, 403, 200),
    ("POST", BOOKS + "/periods/<period_key>/close"): row(404, 302, 302, 403, 403, 302),  # to the job
    ("POST", BOOKS + "/periods/<period_key>/reopen"): row(404, 302, 302, 403, 403, 403),  # periods.reopen
    ("GET", "/api/v1/books"):                        row(401, 200, 200, 403, 403, 200),
    ("PATCH", "/api/v1/books"):                      row(401, 200, 200, 403, 403, 200),  # empty patch
    ("POST", "/api/v1/books/setup"):                 row(401, 422, 422, 403, 403, 422),  # empty body
    ("GET", "/api/v1/accounts"):                     row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/accounts"):                    row(401, 422, 422, 403, 403, 422),  # empty body
    ("GET", "/api/v1/accounts/<int:account_id>"):    row(401, 200, 200, 403, 403, 200),
    ("PATCH", "/api/v1/accounts/<int:account_id>"):  row(401, 200, 200, 403, 403, 200),  # empty patch
    ("GET", "/api/v1/departments"):                  row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/departments"):                 row(401, 422, 422, 403, 403, 422),  # empty body
    ("PATCH", "/api/v1/departments/<int:department_id>"): row(401, 200, 200, 403, 403, 200),  # empty patch
    ("GET", "/api/v1/journal-entries"):              row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/journal-entries"):             row(401, 422, 422, 403, 403, 422),  # empty body
    ("GET", API_JE):                                 row(401, 200, 200, 403, 403, 200),
    ("PATCH", API_JE):                               row(401, 200, 200, 403, 403, 200),  # empty patch
    ("DELETE", API_JE):                              row(401, 204, 204, 403, 403, 204),  # a draft
    ("POST", API_JE + "/post"):                      row(401, 200, 200, 403, 403, 200),
    ("POST", API_JE + "/reverse"):                   row(401, 422, 422, 403, 403, 422),  # a draft: not_posted
    ("GET", "/api/v1/periods"):                      row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/periods/<period>/close"):      row(401, 202, 202, 403, 403, 202),  # checks pass: job
    ("POST", "/api/v1/periods/<period>/reopen"):     row(401, 422, 422, 403, 403, 403),  # no reason / periods.reopen
    # -- finance → receipts, payments, settlements (targets: a posted receipt of the rep's customer
    #    with 200.00 of its 500.00 allocated to a posted invoice; a posted payment to a supplier that is
    #    also that customer; an offset and a write-off; write-offs need books.write_off: not plain finance)
    ("GET", "/w/<slug>/finance/receipts"):           row(404, 200, 200, 403, 403, 200),
    ("GET", "/w/<slug>/finance/receipts/new"):       row(404, 200, 200, 403, 403, 200),
    ("POST", "/w/<slug>/finance/receipts/new"):      row(404, 400, 400, 403, 403, 400),  # empty form
    ("GET", "/w/<slug>/finance/receipts/<int:payment_id>"): row(404, 200, 200, 403, 403, 200),
    ("GET", "/w/<slug>/finance/payments"):           row(404, 200, 200, 403, 403, 200),
    ("GET", "/w/<slug>/finance/payments/new"):       row(404, 200, 200, 403, 403, 200),
    ("POST", "/w/<slug>/finance/payments/new"):      row(404, 400, 400, 403, 403, 400),  # empty form
    ("GET", "/w/<slug>/finance/payments/<int:payment_id>"): row(404, 200, 200, 403, 403, 200),
    ("POST", MONEY + "/post"):                       row(404, 302, 302, 403, 403, 302),  # already posted: flash
    ("POST", MONEY + "/reverse"):                    row(404, 302, 302, 403, 403, 302),  # has allocations: flash
    ("POST", MONEY + "/delete"):                     row(404, 302, 302, 403, 403, 302),  # posted: flash
    ("POST", MONEY + "/allocate"):                   row(404, 400, 400, 403, 403, 400),  # no amounts
    ("GET", MONEY + "/auto-allocate"):               row(404, 200, 200, 403, 403, 200),  # the preview
    ("POST", MONEY + "/auto-allocate"):              row(404, 302, 302, 403, 403, 302),
    ("GET", "/w/<slug>/finance/offsets"):            row(404, 200, 200, 403, 403, 200),
    ("GET", "/w/<slug>/finance/offsets/new"):        row(404, 200, 200, 403, 403, 200),
    ("POST", "/w/<slug>/finance/offsets/new"):       row(404, 400, 400, 403, 403, 400),  # empty form
    ("GET", "/w/<slug>/finance/documents/<int:document_id>/write-off"): row(404, 200, 200, 403, 403, 403),
    ("POST", "/w/<slug>/finance/documents/<int:document_id>/write-off"): row(404, 400, 400, 403, 403, 403),
    ("POST", "/w/<slug>/finance/settlements/<int:settlement_id>/undo"): row(404, 302, 302, 403, 403, 302),
    ("GET", "/api/v1/receipts"):                     row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/receipts"):                    row(401, 422, 422, 403, 403, 422),  # empty body
    ("GET", API_RECEIPT):                            row(401, 200, 200, 403, 403, 200),
    ("PATCH", API_RECEIPT):                          row(401, 200, 200, 403, 403, 200),  # empty patch
    ("DELETE", API_RECEIPT):                         row(401, 422, 422, 403, 403, 422),  # posted_is_final
    ("POST", API_RECEIPT + "/post"):                 row(401, 422, 422, 403, 403, 422),  # already_posted
    ("POST", API_RECEIPT + "/reverse"):              row(401, 422, 422, 403, 403, 422),  # has_allocations
    ("GET", "/api/v1/payments"):                     row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/payments"):                    row(401, 422, 422, 403, 403, 422),  # empty body
    ("GET", API_PAYMENT):                            row(401, 200, 200, 403, 403, 200),
    ("PATCH", API_PAYMENT):                          row(401, 200, 200, 403, 403, 200),  # empty patch
    ("DELETE", API_PAYMENT):                         row(401, 422, 422, 403, 403, 422),  # posted_is_final
    ("POST", API_PAYMENT + "/post"):                 row(401, 422, 422, 403, 403, 422),  # already_posted
    ("POST", API_PAYMENT + "/reverse"):              row(401, 200, 200, 403, 403, 200),  # nothing allocated
    ("GET", "/api/v1/allocations"):                  row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/allocations"):                 row(401, 422, 422, 403, 403, 422),  # empty body
    ("DELETE", "/api/v1/allocations/<int:settlement_id>"): row(401, 204, 204, 403, 403, 204),  # undone
    ("GET", "/api/v1/offsets"):                      row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/offsets"):                     row(401, 422, 422, 403, 403, 422),  # empty body
    ("DELETE", "/api/v1/offsets/<int:settlement_id>"): row(401, 204, 204, 403, 403, 204),  # undone
    ("GET", "/api/v1/write-offs"):                   row(401, 200, 200, 403, 403, 200),
    ("POST", "/api/v1/write-offs"):                  row(401, 422, 422, 403, 403, 403),  # empty body / no right
    ("DELETE", "/api/v1/write-offs/<int:settlement_id>"): row(401, 204, 204, 403, 403, 403),
    # -- sales → import (target: the owner's analysed customer import, one good row and one bad)
    ("GET", IMP):                                    row(404, 200, 200, 200, 403, 403),
    ("POST", IMP):                                   row(404, 400, 400, 400, 403, 403),  # no file
    ("GET", IMP_ONE):                                row(404, 200, 200, 200, 403, 403),
    ("POST", IMP_ONE + "/mapping"):                  row(404, 302, 302, 302, 403, 403),  # nothing mapped: refused
    ("POST", IMP_ONE + "/commit"):                   row(404, 302, 302, 302, 403, 403),  # no mode: refused
    ("POST", IMP_ONE + "/undo"):                     row(404, 302, 302, 302, 403, 403),  # not committed: refused
    ("GET", IMP_ONE + "/rejected"):                  row(404, 200, 200, 200, 403, 403),
    ("POST", IMP + "/export-customers"):             row(404, 302, 302, 302, 302, 403),  # job started
    ("GET", "/api/v1/imports"):                      row(401, 200, 200, 200, 403, 403),
    ("POST", "/api/v1/imports"):                     row(401, 422, 422, 422, 403, 403),  # no file
    ("GET", API_IMP_ONE):                            row(401, 200, 200, 200, 403, 403),
    ("PATCH", API_IMP_ONE):                          row(401, 422, 422, 422, 403, 403),  # no mapping
    ("POST", API_IMP_ONE + "/commit"):               row(401, 202, 202, 202, 403, 403),  # good rows: job
    ("POST", API_IMP_ONE + "/undo"):                 row(401, 422, 422, 422, 403, 403),  # not committed
}
# fmt: on

# Rules the matrix does not cover, and why.
NOT_IN_MATRIX = {
    "/static/<path:filename>": "the app's own static files, public",
    "/bootstrap/static/<path:filename>": "Bootstrap-Flask's vendored assets, public",
}

# Values for URL variables; a callable gets (world, role).
PARAMS = {
    "slug": lambda w, role: w.tenants["a"].slug,
    "member_id": lambda w, role: w.tenants["a"]["sales"].id,
    "job_id": lambda w, role: w.job_id["a"],
    "invitation_id": lambda w, role: w.invitation_id["a"],
    "note_id": lambda w, role: w.note_ids[("a", "owner" if role == "anonymous" else role)],
    "token_id": lambda w, role: w.token_ids[("a", "owner" if role == "anonymous" else role)],
    "token": lambda w, role: w.invitation_token["a"],
    "code": lambda w, role: "en",
    "customer_id": lambda w, role: w.customer_id["a"],
    "contact_id": lambda w, role: w.contact_id["a"],
    "followup_id": lambda w, role: w.followup_id["a"],
    "task_id": lambda w, role: w.task_id["a"],
    "attachment_id": lambda w, role: w.attachment_id["a"],
    "product_id": lambda w, role: w.product_id["a"],
    "quote_id": lambda w, role: w.quote_id["a"],
    "order_id": lambda w, role: w.order_id["a"],
    "contract_id": lambda w, role: w.contract_id["a"],
    "supplier_id": lambda w, role: w.supplier_id["a"],
    "invoice_id": lambda w, role: w.invoice_id["a"],
    "bill_id": lambda w, role: w.bill_id["a"],
    "account_id": lambda w, role: w.account_id["a"],
    "department_id": lambda w, role: w.department_id["a"],
    "journal_entry_id": lambda w, role: w.journal_entry_id["a"],
    "period_key": lambda w, role: "2026-01",
    "period": lambda w, role: "2026-01",
    "entry_id": lambda w, role: w.audit_entry_id["a"],
    "work_report_id": lambda w, role: w.work_report_id["a"],
    "announcement_id": lambda w, role: w.announcement_id["a"],
    "pipeline_id": lambda w, role: w.pipeline_id["a"],
    "opportunity_id": lambda w, role: w.opportunity_id["a"],
    "stage_id": lambda w, role: w.stage_id["a"],
    "category_id": lambda w, role: w.kb_category_id["a"],
    "article_id": lambda w, role: w.kb_article_id["a"],
    "link_id": lambda w, role: w.kb_link_id["a"],
    "batch_id": lambda w, role: w.import_batch_id["a"],
    "payment_id": lambda w, role: w.receipt_id["a"],
    "settlement_id": lambda w, role: w.settlement_id["a"],
    "document_id": lambda w, role: w.invoice_doc_id["a"],
}
RULE_PARAMS = {
    "/w/<slug>/finance/payments/<int:payment_id>": {"payment_id": lambda w, role: w.supplier_payment_id["a"]},
    API_PAYMENT: {"payment_id": lambda w, role: w.supplier_payment_id["a"]},
    API_PAYMENT + "/post": {"payment_id": lambda w, role: w.supplier_payment_id["a"]},
    API_PAYMENT + "/reverse": {"payment_id": lambda w, role: w.supplier_payment_id["a"]},
    "/api/v1/offsets/<int:settlement_id>": {"settlement_id": lambda w, role: w.offset_id["a"]},
    "/api/v1/write-offs/<int:settlement_id>": {"settlement_id": lambda w, role: w.write_off_id["a"]},
    "/w/<slug>/finance/books/entries/<int:entry_id>": {"entry_id": lambda w, role: w.journal_entry_id["a"]},
    "/w/<slug>/finance/books/entries/<int:entry_id>/edit": {"entry_id": lambda w, role: w.journal_entry_id["a"]},
    "/w/<slug>/finance/books/entries/<int:entry_id>/post": {"entry_id": lambda w, role: w.journal_entry_id["a"]},
    "/w/<slug>/finance/books/entries/<int:entry_id>/delete": {"entry_id": lambda w, role: w.journal_entry_id["a"]},
    "/w/<slug>/finance/books/entries/<int:entry_id>/reverse": {"entry_id": lambda w, role: w.journal_entry_id["a"]},
    "/w/<slug>/finance/books/entries/<int:entry_id>/attachments": {"entry_id": lambda w, role: w.journal_entry_id["a"]},
    "/w/<slug>/finance/books/entries/<int:entry_id>/voucher.pdf": {"entry_id": lambda w, role: w.journal_entry_id["a"]},
    "/password/reset/<token>": {"token": lambda w, role: "not-a-valid-token"},
    "/w/<slug>/finance/reports/<key>/export": {"key": lambda w, role: "trial_balance"},
}

# Areas built in files of their own (tests/areas.py).
MATRIX.update(merged("ROWS"))
PARAMS.update(merged("PARAMS"))
RULE_PARAMS.update(merged("RULE_PARAMS"))


def route_methods(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in NOT_IN_MATRIX:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((method, rule.rule))
    return out


def build_url(app, rule_str: str, world, role: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_str)
    values = {}
    for arg in rule.arguments:
        fn = RULE_PARAMS.get(rule_str, {}).get(arg) or PARAMS[arg]
        values[arg] = fn(world, role)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def send(client, method: str, url: str, token: str | None):
    if url.startswith("/api/"):
        headers = bearer(token) if token else {}
        if method in ("GET", "DELETE"):
            return client.open(url, method=method, headers=headers)
        return client.open(url, method=method, json={}, headers=headers)
    if method == "GET":
        return client.get(url)
    return post(client, url)


def test_every_route_is_in_the_matrix(app):
    served = route_methods(app)
    missing = sorted(served - set(MATRIX))
    stale = sorted(set(MATRIX) - served)
    assert not missing, f"routes missing from MATRIX in tests/test_route_matrix.py: {missing}"
    assert not stale, f"MATRIX lists routes the app does not serve: {stale}"
    for key, statuses in MATRIX.items():
        assert set(statuses) == set(ROLES), key


def test_every_variable_has_a_value(app):
    for rule in app.url_map.iter_rules():
        if rule.rule in NOT_IN_MATRIX:
            continue
        for arg in rule.arguments:
            assert arg in PARAMS or arg in RULE_PARAMS.get(rule.rule, {}), f"no test value for <{arg}> in {rule.rule}"


@pytest.fixture
def world_a(world_a, app):
    """The conftest world, plus a follow-up (with its task and attachment) per workspace."""
    from tests.test_activities import add_activities

    add_activities(app, world_a)
    from tests.test_audit_log import add_audit_entries

    add_audit_entries(app, world_a)
    from tests.work_report_factories import add_work_reports

    add_work_reports(app, world_a)
    from tests.test_pipeline_settings import add_pipeline_objects

    add_pipeline_objects(app, world_a)
    from tests.announcement_factories import add_announcement_objects

    add_announcement_objects(app, world_a)
    from tests.kb_factories import add_kb_objects

    add_kb_objects(app, world_a)
    from tests.settlement_factories import add_settlement_objects

    add_settlement_objects(app, world_a)
    build_all(app, world_a)
    return world_a


# A refusal (400 bad input, 401, 403, 404) changes nothing, and neither does a GET: the roles
# whose answer is one of those share one world per row, and only a role whose request may
# change something (a POST that succeeds) gets a world of its own. That is ~1,000 world builds
# instead of ~2,900, the bulk of the suite's time.
CHANGES_NOTHING = {400, 401, 403, 404, 405}


def _cases() -> list[tuple[str, str, tuple[str, ...]]]:
    out = []
    for (method, rule), statuses in MATRIX.items():
        if method == "GET":
            out.append((method, rule, ROLES))
            continue
        refused = tuple(role for role in ROLES if statuses[role] in CHANGES_NOTHING)
        if refused:
            out.append((method, rule, refused))
        out += [(method, rule, (role,)) for role in ROLES if statuses[role] not in CHANGES_NOTHING]
    return out


CASES = _cases()


@pytest.mark.parametrize(
    ("method", "rule", "roles"), CASES, ids=[f"{m} {r} [{'+'.join(roles)}]" for m, r, roles in CASES]
)
def test_route_matrix(app, world_a, client_as, method, rule, roles):
    wrong = []
    for role in roles:
        problem = _check(app, world_a, client_as, method, rule, role)
        if problem:
            wrong.append(problem)
    assert not wrong, "\n\n".join(wrong)


def _check(app, world, client_as, method: str, rule: str, role: str) -> str | None:
    """None when the role gets the status MATRIX says, else what went wrong."""
    expected = MATRIX[(method, rule)][role]
    if role == "anonymous":
        client, token = app.test_client(), None
    else:
        member = world.tenants["a"][role]
        client = client_as(member)
        token = world.tokens[("a", role)]
    url = build_url(app, rule, world, role)
    r = send(client, method, url, token)
    if r.status_code != expected:
        return f"{method} {url} as {role}: expected {expected}, got {r.status_code}\n{r.get_data(as_text=True)[:600]}"
    to_sign_in = expected == 302 and rule.startswith(("/account/", "/workspaces")) and role == "anonymous"
    if to_sign_in and "/login" not in r.headers["Location"]:
        return f"{method} {url} as anonymous: redirected to {r.headers['Location']}, not to sign-in"
    if url.startswith("/api/") and expected >= 400 and not r.is_json:
        return f"{method} {url} as {role}: API errors answer JSON"
    return None
