"""leakproof search operators, so indexed searches stay indexed under row-level security

Revision ID: 0003_leakproof_search
Revises: 0002_rls

Why
---
The app role is subject to FORCE ROW LEVEL SECURITY. For such a role PostgreSQL evaluates a
query's own conditions only after the policy's, unless the condition's function is LEAKPROOF
(it could otherwise see, or raise an error revealing, another tenant's rows). Two things follow
for a non-leakproof operator such as ILIKE (texticlike), a trigram match or array overlap
(arrayoverlap / arraycontains):

* it cannot be an index condition, so `name ILIKE '%百川科技%'` stops using the trigram GIN
  index and filters every row of the tenant (bench/rls_overhead.py, 100,000 customers per
  tenant: 1.3 ms -> 122 ms; a term with no hit 0.65 ms -> 225 ms);
* the planner may not look at the column statistics for it either, so its row estimates fall
  back to defaults and it picks worse plans even where no index would help.

What this revision creates (public schema, PostgreSQL only)
-----------------------------------------------------------
* `leakproof_texticlike(text, text)`, `leakproof_arrayoverlap(text[], text[])` and
  `leakproof_arraycontains(text[], text[])`: the built-in C functions behind `~~*`, `&&` and
  `@>`, re-declared `LANGUAGE internal ... LEAKPROOF`. Same code, same speed, same results.
* operators `~~*@` (ILIKE), `&&@` (overlap) and `@>@` (contains) on those functions;
* GIN operator classes `leakproof_trgm_ops` (text, pg_trgm's support functions, `~~*@` as the
  ILIKE strategy) and `leakproof_text_array_ops` (text[], the core array_ops support functions,
  `&&@` and `@>@` as the overlap and contains strategies).

An index is then declared `USING gin (name leakproof_trgm_ops)` (or `(bigrams
leakproof_text_array_ops)`) and queried through tenants.search_sql, which renders the
operators on PostgreSQL and plain LIKE elsewhere. Under RLS that gives a Bitmap Index Scan on
the GIN index and the same estimates and timings as without RLS (0.93 ms -> 0.99 ms).

Alternatives tried and rejected (bench/README.md has the plans)
--------------------------------------------------------------
* A LEAKPROOF SQL wrapper `f(h, p) = h ILIKE p`: the planner inlines SQL functions, and the
  inlined `~~*` is not leakproof, so the plan is still a scan. A wrapper that is not inlined
  (plpgsql, SET ...) keeps LEAKPROOF but is opaque to every index, so it scans too.
* `ALTER FUNCTION texticlike(text, text) LEAKPROOF`: works, but edits a pg_catalog function
  for every role and every query in the database, and pg_dump / pg_upgrade do not carry
  catalog edits, so a restored or upgraded database silently goes back to scanning.
* Adding the new operators to pg_trgm's own gin_trgm_ops family: each strategy number holds one
  operator per type pair and `~~*` already holds ILIKE's, and changing an extension's objects
  from outside it does not survive a dump either. A separate operator class is ours and dumps
  like any other object.

What LEAKPROOF promises here: arrayoverlap / arraycontains on text[] raise no data-dependent
error. texticlike raises one error, for a *pattern* ending in an escape character; a row's
value on the left-hand side never makes it raise. tenants.search_sql always binds an escaped
pattern, so only a query that put another row's column on the pattern side could learn from
it (one bit: "ends with a backslash").

Only a superuser may declare a function LEAKPROOF or create an operator class, so this revision
must run as one (MIGRATION_DATABASE_URL); it checks and says so. The downgrade drops what it
created but keeps pg_trgm: an extension is shared database infrastructure and may predate us.
"""

from alembic import op

revision = "0003_leakproof_search"
down_revision = "0002_rls"
branch_labels = None
depends_on = None

# (name, argument types, built-in C function it re-declares)
FUNCTIONS = [
    ("leakproof_texticlike", "text, text", "texticlike"),
    ("leakproof_arrayoverlap", "text[], text[]", "arrayoverlap"),
    ("leakproof_arraycontains", "text[], text[]", "arraycontains"),
]

# (operator, argument types, function, extra clauses). The estimators are what the planner
# calls for selectivity: iclikesel is ILIKE's own; arraycontsel only knows the built-in array
# operators' oids (it errors on ours), so the array operators use the generic matchingsel,
# which applies the operator to the column's statistics.
OPERATORS = [
    ("~~*@", "text", "text", "leakproof_texticlike", "RESTRICT = iclikesel, JOIN = iclikejoinsel"),
    (
        "&&@",
        "text[]",
        "text[]",
        "leakproof_arrayoverlap",
        "COMMUTATOR = OPERATOR(public.&&@), RESTRICT = matchingsel, JOIN = matchingjoinsel",
    ),
    ("@>@", "text[]", "text[]", "leakproof_arraycontains", "RESTRICT = matchingsel, JOIN = matchingjoinsel"),
]

# Strategy and support numbers are those of the operator classes we mirror: pg_trgm's
# gin_trgm_ops (4 = ILIKE) and core GIN array_ops (1 = overlap, 2 = contains).
TRGM_OPCLASS = """
CREATE OPERATOR CLASS public.leakproof_trgm_ops FOR TYPE text USING gin AS
    OPERATOR 4 public.~~*@ (text, text),
    FUNCTION 1 btint4cmp(int4, int4),
    FUNCTION 2 gin_extract_value_trgm(text, internal),
    FUNCTION 3 gin_extract_query_trgm(text, internal, int2, internal, internal, internal, internal),
    FUNCTION 4 gin_trgm_consistent(internal, int2, text, int4, internal, internal, internal, internal),
    FUNCTION 6 gin_trgm_triconsistent(internal, int2, text, int4, internal, internal, internal),
    STORAGE int4
"""

ARRAY_OPCLASS = """
CREATE OPERATOR CLASS public.leakproof_text_array_ops FOR TYPE text[] USING gin AS
    OPERATOR 1 public.&&@ (text[], text[]),
    OPERATOR 2 public.@>@ (text[], text[]),
    FUNCTION 1 bttextcmp(text, text),
    FUNCTION 2 ginarrayextract(anyarray, internal, internal),
    FUNCTION 3 ginqueryarrayextract(anyarray, internal, int2, internal, internal, internal, internal),
    FUNCTION 4 ginarrayconsistent(internal, int2, anyarray, int4, internal, internal, internal, internal),
    FUNCTION 6 ginarraytriconsistent(internal, int2, anyarray, int4, internal, internal, internal),
    STORAGE text
"""


def _require_superuser() -> None:
    bind = op.get_bind()
    row = bind.exec_driver_sql("SELECT current_user, current_setting('is_superuser')").one()
    if row[1] != "on":
        raise RuntimeError(
            f"revision {revision} must be run by a PostgreSQL superuser: it declares functions "
            f"LEAKPROOF and creates operator classes, which only a superuser may do. It is "
            f"connected as {row[0]!r}. Set MIGRATION_DATABASE_URL to a superuser (e.g. postgres) "
            f"and run `flask --app wsgi db upgrade` again."
        )


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no row-level security; tenants.search_sql falls back to LIKE there.
    _require_superuser()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, args, builtin in FUNCTIONS:
        # LANGUAGE internal calls the built-in C function directly: nothing to inline, so the
        # LEAKPROOF mark reaches the planner; PARALLEL SAFE and STRICT match the originals.
        op.execute(
            f"CREATE FUNCTION public.{name}({args}) RETURNS boolean "
            f"LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS '{builtin}'"
        )
    for name, left, right, function, extra in OPERATORS:
        op.execute(
            f"CREATE OPERATOR public.{name} (FUNCTION = public.{function}, "
            f"LEFTARG = {left}, RIGHTARG = {right}, {extra})"
        )
    op.execute(TRGM_OPCLASS)
    op.execute(ARRAY_OPCLASS)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _require_superuser()
    # No CASCADE: an index still using an operator class belongs to a later revision, which
    # must be downgraded first; failing here beats silently dropping its index.
    # CREATE OPERATOR CLASS made an operator family of the same name; dropping it drops both.
    op.execute("DROP OPERATOR FAMILY IF EXISTS public.leakproof_text_array_ops USING gin")
    op.execute("DROP OPERATOR FAMILY IF EXISTS public.leakproof_trgm_ops USING gin")
    for name, left, right, _function, _extra in OPERATORS:
        op.execute(f"DROP OPERATOR IF EXISTS public.{name} ({left}, {right})")
    for name, args, _builtin in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS public.{name}({args})")
