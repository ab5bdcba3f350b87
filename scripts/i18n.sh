#!/usr/bin/env bash
# Taizhang translations (Flask-Babel catalogs under crm/translations/).
#
#   bash scripts/i18n.sh extract   code + templates -> crm/translations/messages.pot
#   bash scripts/i18n.sh update    messages.pot -> every <locale>/LC_MESSAGES/messages.po
#                                  (no fuzzy matching: new or changed strings come in
#                                  untranslated, never with a guessed translation; empty
#                                  entries of the source-language catalog, en, get msgstr = msgid)
#   bash scripts/i18n.sh compile   .po -> .mo (pybabel compile --statistics), then `check`
#   bash scripts/i18n.sh check     completeness check only; writes nothing (for tests and CI)
#   bash scripts/i18n.sh all       extract + update + compile
#
# `check` fails (exit 1), listing the offending msgids, when a catalog
#   - has an untranslated entry (any plural form empty) or a fuzzy entry (fuzzy entries are
#     ignored at runtime, so they count as untranslated), or a fuzzy header;
#   - lacks a string that the code and templates use now (a fresh extraction into a
#     temporary file; the committed messages.pot is not touched);
#   - has a msgstr whose %(name)s placeholders or HTML tags/entities differ from its msgid's,
#     or that has a lone "%" the msgid does not have,
#     or fails Babel's own checks (python-format, number of plural forms);
#   - has a Plural-Forms header other than the locale's (zh: nplurals=1; plural=0);
#   - has a .mo file that is missing or does not match the .po (run `compile`).
# Obsolete entries (#~) are kept by `update` for reference and ignored by the check.
set -euo pipefail
cd "$(dirname "$0")/.."

TRANSLATIONS=crm/translations
POT="$TRANSLATIONS/messages.pot"
SOURCE_LOCALE=en

if [[ -x .venv/bin/pybabel ]]; then PYBABEL=.venv/bin/pybabel; else PYBABEL=pybabel; fi
if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

# extract_to FILE: run the extraction with the project's keywords into FILE.
extract_to() {
  local version
  version=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])' 2>/dev/null || echo 0)
  # Default keywords (_, gettext, ngettext, pgettext, ...) plus Flask-Babel's lazy ones.
  "$PYBABEL" -q extract -F babel.cfg \
    -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
    --add-comments=TRANSLATORS: \
    --project Taizhang --version "$version" --copyright-holder Taizhang \
    -o "$1" .
}

cmd_extract() {
  local new
  new=$(mktemp "${TMPDIR:-/tmp}/taizhang-messages.XXXXXX")
  extract_to "$new"
  # Keep the old file (and its date) when only POT-Creation-Date changed: no churn in git.
  if [[ -f "$POT" ]] && diff -q <(grep -v '^"POT-Creation-Date: ' "$POT") <(grep -v '^"POT-Creation-Date: ' "$new") >/dev/null; then
    rm -f "$new"
    echo "i18n: $POT is up to date ($(($(grep -c '^msgid ' "$POT") - 1)) strings)"
  else
    cat "$new" >"$POT" && rm -f "$new"
    echo "i18n: extracted $(($(grep -c '^msgid ' "$POT") - 1)) strings into $POT"
  fi
}

cmd_update() {
  [[ -f "$POT" ]] || { echo "i18n: $POT is missing; run: bash scripts/i18n.sh extract" >&2; exit 1; }
  "$PYBABEL" update -i "$POT" -d "$TRANSLATIONS" --no-fuzzy-matching
  fill_source_locale
}

# The source language needs no translating: copy msgid into every empty msgstr of the en
# catalog (entries someone translated differently are left alone).
fill_source_locale() {
  local po="$TRANSLATIONS/$SOURCE_LOCALE/LC_MESSAGES/messages.po"
  [[ -f "$po" ]] || return 0
  "$PY" - "$po" <<'PY'
import sys
from babel.messages.pofile import read_po, write_po

path = sys.argv[1]
with open(path, "rb") as f:
    catalog = read_po(f, abort_invalid=True)
filled = 0
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, (list, tuple)):
        strings = list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]
        strings += [""] * (catalog.num_plurals - len(strings))
        ids = list(message.id)
        new = [s or ids[min(i, len(ids) - 1)] for i, s in enumerate(strings[: catalog.num_plurals])]
        if new != strings[: catalog.num_plurals] or message.fuzzy:
            message.string = tuple(new)
            filled += 1
    elif not message.string or message.fuzzy:
        message.string = message.string or message.id
        filled += 1
    message.flags.discard("fuzzy")
if filled:
    with open(path, "wb") as f:
        write_po(f, catalog, width=76)
    print(f"i18n: {path}: filled {filled} source-language entries (msgstr = msgid)")
PY
}

cmd_compile() {
  "$PYBABEL" compile -d "$TRANSLATIONS" --statistics
  cmd_check
}

cmd_check() {
  local rc=0
  FRESH_POT=$(mktemp "${TMPDIR:-/tmp}/taizhang-messages.XXXXXX")
  trap 'rm -f "$FRESH_POT"' EXIT
  local fresh=$FRESH_POT
  extract_to "$fresh"
  "$PY" - "$TRANSLATIONS" "$fresh" <<'PY' || rc=$?
import re
import sys
from collections import Counter
from pathlib import Path

from babel import Locale
from babel.messages.mofile import read_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

translations, fresh_pot = Path(sys.argv[1]), sys.argv[2]
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
# Real HTML markup only: "<token>" or "/w/<address>/" in a msgid are text, not tags.
TAG = re.compile(r"</?(?:a|abbr|b|br|code|em|i|kbd|li|ol|p|small|span|strong|sub|sup|u|ul)\b[^<>]*>|&#?\w+;")


def key(message):
    return (message.id, message.context)


def show(message):
    mid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    where = f" ({message.locations[0][0]}:{message.locations[0][1]})" if message.locations else ""
    ctx = f" [context {message.context!r}]" if message.context else ""
    return f"{mid!r}{ctx}{where}"


def placeholders(text):
    return Counter(p for p in PLACEHOLDER.findall(text) if p != "%%")


def stray_percent(text):
    # Jinja's newstyle gettext always applies "%" formatting, so a lone "%" breaks rendering.
    return "%" in PLACEHOLDER.sub("", text)


with open(fresh_pot, "rb") as f:
    template = read_po(f)
wanted = {key(m): m for m in template if m.id}

catalogs = sorted(translations.glob("*/LC_MESSAGES/messages.po"))
if not catalogs:
    print(f"i18n check: no catalogs under {translations}", file=sys.stderr)
    sys.exit(1)

failed = False
for po_path in catalogs:
    problems: list[str] = []
    with open(po_path, "rb") as f:
        catalog = read_po(f, abort_invalid=True)
    locale = po_path.parent.parent.name
    messages = [m for m in catalog if m.id]

    if catalog.fuzzy:
        problems.append("the header is marked fuzzy (pybabel compile would skip the whole catalog)")
    expected = get_plural(Locale.parse(locale))
    if (catalog.num_plurals, catalog.plural_expr) != (expected.num_plurals, expected.plural_expr):
        problems.append(
            f"Plural-Forms is 'nplurals={catalog.num_plurals}; plural={catalog.plural_expr};', "
            f"expected '{expected.plural_forms}'"
        )

    have = {key(m) for m in messages}
    missing = [m for k, m in wanted.items() if k not in have]
    for m in missing:
        problems.append(f"not in the catalog (run: bash scripts/i18n.sh all): {show(m)}")

    untranslated, fuzzy, mismatched = [], [], []
    for m in messages:
        strings = list(m.string) if isinstance(m.string, (list, tuple)) else [m.string]
        if m.fuzzy:
            fuzzy.append(m)
            continue
        if isinstance(m.id, (list, tuple)) and len(strings) != catalog.num_plurals:
            untranslated.append(m)
            continue
        if not all(strings):
            untranslated.append(m)
            continue
        ids = list(m.id) if isinstance(m.id, (list, tuple)) else [m.id]
        want_ph = placeholders(ids[0]) | (placeholders(ids[1]) if len(ids) > 1 else Counter())
        want_tags = Counter(TAG.findall(ids[0]))
        for s in strings:
            got_ph = placeholders(s)
            # A singular form may drop %(n)d; it must not invent or lose named ones.
            if len(ids) > 1:
                ok = set(got_ph) <= set(want_ph) and {p for p in want_ph if "(" in p and "(n)" not in p} <= set(got_ph)
            else:
                ok = got_ph == want_ph
            if not ok:
                mismatched.append(f"placeholders {sorted(got_ph)} != {sorted(want_ph)}: {show(m)}")
            if Counter(TAG.findall(s)) != want_tags:
                mismatched.append(f"HTML tags or entities differ from the msgid: {show(m)}")
            if stray_percent(s) and not any(stray_percent(i) for i in ids):
                mismatched.append(f"a lone '%' (write '%%'): {show(m)}")
        for err in m.check(catalog):
            mismatched.append(f"{err}: {show(m)}")
    problems += [f"untranslated: {show(m)}" for m in untranslated]
    problems += [f"fuzzy: {show(m)}" for m in fuzzy]
    problems += mismatched

    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        problems.append(f"{mo_path} is missing (run: bash scripts/i18n.sh compile)")
    else:
        with open(mo_path, "rb") as f:
            mo = read_mo(f)
        def table(cat):
            out = {}
            for m in cat:
                if not m.id or m.fuzzy:
                    continue
                s = tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string
                mid = tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id
                if m.string:  # what pybabel compile writes (note: ("",) counts, as there)
                    out[(mid, m.context)] = s
            return out
        if table(mo) != table(catalog):
            problems.append(f"{mo_path} does not match the .po (run: bash scripts/i18n.sh compile)")

    total = len(messages)
    done = total - len(untranslated) - len(fuzzy)
    status = "ok" if not problems else f"{len(problems)} problem(s)"
    print(f"i18n check: {po_path}: {done}/{total} translated, {len(fuzzy)} fuzzy, "
          f"{len(missing)} missing from the catalog: {status}")
    for p in problems:
        print(f"  - {p}")
    failed = failed or bool(problems)

if failed:
    print("i18n check: FAILED", file=sys.stderr)
    sys.exit(1)
print(f"i18n check: all {len(catalogs)} catalogs complete ({len(wanted)} strings in the code)")
PY
  return "$rc"
}

case "${1:-}" in
  extract) cmd_extract ;;
  update) cmd_update ;;
  compile) cmd_compile ;;
  check) cmd_check ;;
  all) cmd_extract; cmd_update; cmd_compile ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
