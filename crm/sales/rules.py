"""Pure rules about customers: identity codes, name normalisation, search keys.

No database, no request: unit-tested directly.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pypinyin.constants import RE_HANS
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin
from stdnum.cn import uscc as stdnum_uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Longest first, so 有限责任公司 is dropped whole rather than leaving 责任.
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")
_BRACKETS = re.compile(r"[（()）\[\]【】［］〔〕]")
_NON_WORD = re.compile(r"[\s\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def fold_width(text: str) -> str:
    """Full-width letters, digits and spaces to their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def normalise_uscc(code: str | None) -> str | None:
    if not code:
        return None
    code = fold_width(code).strip().upper().replace(" ", "").replace("-", "")
    return code or None


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str | None) -> bool:
    """GB 32100-2015: 18 characters of the alphabet and a matching check character."""
    code = normalise_uscc(code)
    if not code or len(code) != 18 or not code[:8].isdigit() or any(ch not in USCC_ALPHABET for ch in code):
        return False
    # The structure is what python-stdnum's validate() checks; the check character is its own
    # calculation (called directly: validate() cleans the code again, twice the time on an import).
    return bool(stdnum_uscc.calc_check_digit(code) == code[17])


def normalise_company_name(name: str) -> str:
    """The key duplicates are found by: bracket characters dropped (their words kept, so
    北京百川（科技）有限公司 = 北京百川科技有限公司), no legal-form suffix, no spaces, folded width."""
    text = fold_width(name).strip().lower()
    text = _BRACKETS.sub("", text)
    text = _NON_WORD.sub("", text)
    for suffix in COMPANY_SUFFIXES:
        if text.endswith(suffix):
            if len(text) > len(suffix):  # a name that is only a legal form stays as it is
                text = text[: -len(suffix)]
            break
    return text


def normalise_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = re.sub(r"\D", "", fold_width(phone))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def normalise_email(email: str | None) -> str | None:
    return fold_width(email).strip().lower() or None if email else None


_NOT_HAN = "\x00"  # marks the chunks lazy_pinyin passes through as they are (Latin, digits)


def _not_han(chunk: str) -> str:
    return _NOT_HAN + chunk


class _WordCache(DefaultConverter):
    """pypinyin's converter, remembering each segmented word's reading. Company names are made of
    a few thousand words (北京, 科技, 有限公司...), and converting a word is a pure function of its
    arguments, so 100,000 names cost a few thousand conversions instead of 800,000."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[Any, ...], list[list[str]]] = {}

    def convert(self, words: str, style: Any, heteronym: bool, errors: Any, strict: bool, **kwargs: Any) -> Any:
        if kwargs or not RE_HANS.match(words):  # Latin and digits: unique per name, not worth keeping
            return super().convert(words, style, heteronym, errors, strict, **kwargs)
        key = (words, style, heteronym, errors, strict)
        found = self._seen.get(key)
        if found is None:
            found = super().convert(words, style, heteronym, errors, strict)
            if len(self._seen) < 100_000:
                self._seen[key] = found
        return [list(x) for x in found]  # callers get their own lists, the cache stays as it was


_PINYIN = Pinyin(_WordCache())


def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials, lower case, no separators: 北京百川 → (beijingbaichuan, bjbc).

    One lazy_pinyin call: the initials are the first letters of the syllables it chose (what
    Style.FIRST_LETTER gives), and chunks that are not Chinese stay whole in both. A second
    call cost half the time of preparing an imported customer.
    """
    full: list[str] = []
    short: list[str] = []
    for chunk in _PINYIN.lazy_pinyin(fold_width(name), errors=_not_han):
        if chunk.startswith(_NOT_HAN):
            text = chunk[1:].lower()
            full.append(text)
            short.append(text)
        elif chunk.strip():
            full.append(chunk.lower())
            short.append(chunk[0].lower())
    return _NON_WORD.sub("", "".join(full)), _NON_WORD.sub("", "".join(short))


def customer_search_keys(name: str, short_name: str | None, phone: str | None, email: str | None) -> dict[str, Any]:
    """The columns a customer is found and matched by, from what a person typed. A pure function:
    the customer service calls it on every write, the import in a worker thread."""
    full, initials = pinyin_keys(name + (short_name or ""))
    return {
        "name_normalized": normalise_company_name(name),
        "phone_normalized": normalise_phone(phone),
        "email": normalise_email(email),
        "pinyin_full": full[:600],
        "pinyin_initials": initials[:200],
        "search_bigrams": bigrams(" ".join(filter(None, [name, short_name]))),
    }


def bigrams(text: str) -> list[str]:
    """Character bigrams of the CJK runs (and lower-cased words) of a text, for a GIN-indexed search.

    pg_trgm cannot index a two-character pattern (it has no trigram), and most Chinese
    names are searched by two characters (百川); a stored array of bigrams can be.
    """
    text = fold_width(text).lower()
    grams: list[str] = []
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+", text):
        if len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return sorted(set(grams))


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
