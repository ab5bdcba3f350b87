"""Search predicates that stay index-fast under PostgreSQL row-level security.

The app role is subject to FORCE ROW LEVEL SECURITY, and for such a role PostgreSQL will not
use a non-LEAKPROOF operator (ILIKE, array overlap) as an index condition, nor look at column
statistics for it: an indexed search silently becomes a scan of the whole tenant. Migration
0003_leakproof_search creates leakproof twins of those operators (`~~*@`, `&&@`, `@>@`) and GIN
operator classes that index them; this module is how queries and models use them:

    select(Customer).where(icontains(Customer.name, q))       # name ~~*@ '%q%'
    select(Customer).where(istartswith(Customer.initials, q))  # initials ~~*@ 'q%'
    trigram_index("ix_customers_name_trgm", "name")            # in __table_args__
    bigram_index("ix_customers_name_bigrams", "name_bigrams")

On PostgreSQL they render the leakproof operators; elsewhere (SQLite, which has no RLS) plain
`lower(x) LIKE lower(y)`. Keep the explicit tenant_id filter (the ORM guard adds it) as well:
the leakproof operator only decides which index may be used, not which rows may be seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, Index, Text, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

ESCAPE = "\\"
# Schema-qualified, so the operator cannot be shadowed by one earlier on the search_path.
ILIKE_OP = "OPERATOR(public.~~*@)"
OVERLAP_OP = "OPERATOR(public.&&@)"
CONTAINS_OP = "OPERATOR(public.@>@)"
TRGM_OPCLASS = "leakproof_trgm_ops"
TEXT_ARRAY_OPCLASS = "leakproof_text_array_ops"


def like_escape(term: str) -> str:
    """Escape LIKE wildcards so the term matches literally (backslash is the escape on both
    backends). It also means a pattern never ends in a lone escape, the one error ILIKE raises."""
    return term.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


class LeakproofILike(FunctionElement[bool]):
    """`left ILIKE pattern` through the leakproof `~~*@` on PostgreSQL, ILIKE elsewhere."""

    type = Boolean()
    name = "leakproof_ilike"
    inherit_cache = True  # the operands are clauses, so FunctionElement's cache key covers them


class _ArrayMatch(FunctionElement[bool]):
    type = Boolean()
    inherit_cache = True
    operator = ""


class LeakproofOverlap(_ArrayMatch):
    """`array && values` through the leakproof `&&@` (PostgreSQL only)."""

    name = "leakproof_overlap"
    operator = OVERLAP_OP
    inherit_cache = True


class LeakproofContains(_ArrayMatch):
    """`array @> values` through the leakproof `@>@` (PostgreSQL only)."""

    name = "leakproof_contains"
    operator = CONTAINS_OP
    inherit_cache = True


def _operands(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    left, right = element.clauses.clauses
    return compiler.process(left, **kw), compiler.process(right, **kw)


@compiles(LeakproofILike)
def _ilike_default(element: LeakproofILike, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = element.clauses.clauses
    # Parenthesised like the PostgreSQL form, so NOT / "= 0" apply to the whole match.
    return f"({compiler.process(left.ilike(right, escape=ESCAPE), **kw)})"


@compiles(LeakproofILike, "postgresql")
def _ilike_postgresql(element: LeakproofILike, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = _operands(element, compiler, **kw)
    # ~~* takes backslash as its escape by default, which is what like_escape writes.
    return f"({left} {ILIKE_OP} {right})"


@compiles(_ArrayMatch)
def _array_default(element: _ArrayMatch, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"{element.name} needs PostgreSQL arrays; guard array searches by dialect")


@compiles(_ArrayMatch, "postgresql")
def _array_postgresql(element: _ArrayMatch, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = _operands(element, compiler, **kw)
    return f"({left} {element.operator} {right})"


def icontains(column: Any, term: str) -> ColumnElement[bool]:
    """Case-insensitive "column contains term", wildcards in the term taken literally.

    Index-backed on PostgreSQL by a `leakproof_trgm_ops` GIN index (see trigram_index) once the
    term has three or more characters; shorter terms have no trigram to look up (a bigram column
    with array_overlap serves those). An empty term matches every row: callers skip it.
    """
    return LeakproofILike(column, literal(f"%{like_escape(term)}%", Text()))


def istartswith(column: Any, term: str) -> ColumnElement[bool]:
    """Case-insensitive "column starts with term" (e.g. pinyin initials). A trigram index serves
    it from the first character on, since pg_trgm pads the start of a word; a plain LIKE 'x%'
    would not be leakproof, and one non-indexable arm turns a whole OR into a scan."""
    return LeakproofILike(column, literal(f"{like_escape(term)}%", Text()))


def array_overlap(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """The array column shares at least one element with values (e.g. any of a term's bigrams)."""
    return LeakproofOverlap(column, literal(list(values), ARRAY(Text())))


def array_contains(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """The array column holds every element of values (e.g. all of a term's bigrams)."""
    return LeakproofContains(column, literal(list(values), ARRAY(Text())))


def trigram_index(name: str, column: str) -> Index:
    """A GIN trigram index that icontains() can use under RLS; created on PostgreSQL only."""
    index = Index(name, column, postgresql_using="gin", postgresql_ops={column: TRGM_OPCLASS})
    return index.ddl_if(dialect="postgresql")


def bigram_index(name: str, column: str) -> Index:
    """A GIN index on a text[] column that array_overlap/array_contains can use under RLS."""
    index = Index(name, column, postgresql_using="gin", postgresql_ops={column: TEXT_ARRAY_OPCLASS})
    return index.ddl_if(dialect="postgresql")
