"""Pure rules of the Sales context (crm/sales/rules.py): identity codes, names, search keys.

No database and no request: these run in microseconds on either back end.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.sales import rules

VALID_USCC = "91110000600037341L"  # the example in ../shared/reference/README.md


# ---------------------------------------------------------------- unified social credit code


def _with_check(first17: str) -> str:
    return first17 + rules.uscc_check_character(first17)


def _reference_check(first17: str) -> str:
    """The formula restated from the reference README, independently of the module."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(alphabet.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    return alphabet[(31 - total % 31) % 31]


def test_uscc_reference_example_is_valid():
    assert rules.uscc_check_character(VALID_USCC[:17]) == "L"
    assert rules.uscc_is_valid(VALID_USCC)


@pytest.mark.parametrize(
    "written", ["91110000600037341l", " 9111 0000 6000 3734 1L ", "９１１１００００６０００３７３４１Ｌ"]
)
def test_uscc_is_read_case_width_and_space_insensitively(written):
    assert rules.normalise_uscc(written) == VALID_USCC
    assert rules.uscc_is_valid(written)


@pytest.mark.parametrize("wrong", [c for c in rules.USCC_ALPHABET if c != "L"])
def test_uscc_with_a_wrong_check_character_is_invalid(wrong):
    assert not rules.uscc_is_valid(VALID_USCC[:17] + wrong)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_uscc_letters_outside_the_alphabet_are_rejected(letter):
    # In the body, and as the check character.
    body = VALID_USCC[:8] + letter + VALID_USCC[9:17]
    assert not rules.uscc_is_valid(body + "0")
    assert not any(rules.uscc_is_valid(body + c) for c in rules.USCC_ALPHABET)
    assert not rules.uscc_is_valid(VALID_USCC[:17] + letter)


@pytest.mark.parametrize(
    "code", ["", None, "91110000600037341", "91110000600037341LX", "9111000060003734-L", "911100006000373 1L"]
)
def test_uscc_of_the_wrong_length_or_shape_is_invalid(code):
    assert not rules.uscc_is_valid(code)


@given(
    st.text(alphabet=st.sampled_from(rules.USCC_ALPHABET + "IOZ -a"), min_size=16, max_size=19),
    st.booleans(),
)
def test_uscc_validity_is_what_python_stdnum_says(text, fix_check):
    from stdnum.cn import uscc as stdnum_uscc

    if fix_check and len(text) >= 17 and all(c in rules.USCC_ALPHABET for c in text[:17]):
        text = text[:17] + rules.uscc_check_character(text[:17])  # make valid ones common
    code = rules.normalise_uscc(text) or ""
    assert rules.uscc_is_valid(text) == stdnum_uscc.is_valid(code)


def test_uscc_whose_weighted_sum_is_divisible_by_31_gets_check_character_0():
    # Find a body whose weighted sum is a multiple of 31: (31 - 0) mod 31 is 0, not 31.
    hits = []
    for ch in rules.USCC_ALPHABET:
        body = "9111000060003734" + ch
        total = sum(rules.USCC_ALPHABET.index(c) * w for c, w in zip(body, rules.USCC_WEIGHTS, strict=True))
        if total % 31 == 0:
            hits.append(body)
    assert hits, "the search space holds a body with a sum divisible by 31"
    for body in hits:
        assert rules.uscc_check_character(body) == "0"
        assert rules.uscc_is_valid(body + "0")
        assert not rules.uscc_is_valid(body + "Y")  # index 30, what a "31 - 0" slip would shift to


@pytest.mark.parametrize(
    "first17", ["91110000600037341", "91310115MA1H7W5X1", "12100000400000624", "52110000500012345", "93440300MA5F00000"]
)
def test_uscc_check_character_matches_the_standard_formula(first17):
    assert rules.uscc_check_character(first17) == _reference_check(first17)
    assert rules.uscc_is_valid(_with_check(first17))


# ---------------------------------------------------------------- company names


@pytest.mark.parametrize(
    "name",
    [
        "北京百川科技有限公司",
        "北京百川科技有限责任公司",
        "北京百川科技股份有限公司",
        "北京百川（科技）有限公司",
        "北京百川(科技)有限公司",
        "【北京】百川科技有限公司",
        "北京 百川 科技 有限公司",
        "北京百川科技　有限公司",  # an ideographic (full-width) space
        " 北京百川科技有限公司 ",
    ],
)
def test_normalise_company_name_drops_legal_form_brackets_and_spaces(name):
    assert rules.normalise_company_name(name) == "北京百川科技"


def test_normalise_company_name_drops_the_longest_suffix_whole():
    # 有限责任公司 goes whole, never leaving 责任 behind; 股份有限公司 never leaves 股份.
    assert "责任" not in rules.normalise_company_name("上海远航物流有限责任公司")
    assert "股份" not in rules.normalise_company_name("上海远航物流股份有限公司")
    assert rules.normalise_company_name("上海远航物流有限责任公司") == "上海远航物流"


def test_normalise_company_name_keeps_the_words_inside_brackets():
    assert rules.normalise_company_name("百川（深圳）科技有限公司") == "百川深圳科技"


def test_normalise_company_name_folds_full_width_latin_and_case():
    assert rules.normalise_company_name("ＡＢＣ　Ｔｒａｄｉｎｇ有限公司") == rules.normalise_company_name(
        "abc trading 有限公司"
    )
    assert rules.normalise_company_name("ＡＢＣ　Ｔｒａｄｉｎｇ有限公司") == "abctrading"


def test_normalise_company_name_never_empties_a_name_that_is_only_a_suffix():
    assert rules.normalise_company_name("有限公司")
    assert rules.normalise_company_name("公司") == "公司"


# ---------------------------------------------------------------- pinyin and bigrams


def test_pinyin_keys_full_and_initials():
    assert rules.pinyin_keys("北京百川") == ("beijingbaichuan", "bjbc")


def test_pinyin_keys_read_polyphones_in_context():
    # 重 is zhong on its own, chong in 重庆.
    assert rules.pinyin_keys("重庆") == ("chongqing", "cq")
    assert rules.pinyin_keys("重庆百川")[1] == "cqbc"


def test_pinyin_keys_keep_latin_and_digits_lower_case():
    full, initials = rules.pinyin_keys("ABC 3D 打印")
    assert full.startswith("abc3d") and full.endswith("dayin")
    assert " " not in full and " " not in initials


@given(st.text(alphabet=st.sampled_from("北京百川重庆长安银行行长曾女绿ABCabc3D-（）　 ＡＢ１"), max_size=14))
def test_pinyin_initials_are_what_the_first_letter_style_gives(name):
    from pypinyin import Style, lazy_pinyin

    text = rules.fold_width(name)
    chunks = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    expected = rules._NON_WORD.sub("", "".join(c.lower() for c in chunks if c.strip()))
    assert rules.pinyin_keys(name)[1] == expected


@given(st.text(alphabet=st.sampled_from("北京百川重庆长安银行行长曾女绿朝阳乐音ABCabc3D-（）　 ＡＢ１"), max_size=14))
def test_pinyin_full_is_what_plain_lazy_pinyin_gives_word_cache_or_not(name):
    from pypinyin import lazy_pinyin

    text = rules.fold_width(name)
    expected = rules._NON_WORD.sub("", "".join(c.lower() for c in lazy_pinyin(text) if c.strip()))
    assert rules.pinyin_keys(name)[0] == expected
    assert rules.pinyin_keys(name)[0] == expected  # the second time from the word cache, unchanged


def test_bigrams_of_chinese_runs_and_latin_words():
    assert rules.bigrams("北京百川") == sorted(["北京", "京百", "百川"])
    assert rules.bigrams("百川") == ["百川"]
    # A lone character stays a one-element key; latin words are lower-cased and paired too.
    assert rules.bigrams("科") == ["科"]
    assert set(rules.bigrams("百川 ABC")) == {"百川", "ab", "bc"}


def test_bigrams_are_unique_and_sorted():
    grams = rules.bigrams("哈哈哈哈")
    assert grams == ["哈哈"]
    assert rules.bigrams("北京百川北京") == sorted(set(rules.bigrams("北京百川北京")))


def test_bigrams_of_a_query_are_a_subset_of_the_names_bigrams():
    name = rules.bigrams("北京百川科技有限公司")
    assert set(rules.bigrams("百川科技")) <= set(name)
    assert not set(rules.bigrams("百科")) <= set(name)


def test_has_cjk():
    assert rules.has_cjk("abc 百")
    assert not rules.has_cjk("bjbc 138")


# ---------------------------------------------------------------- phones and e-mail


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "138-0013-8000",
        "138 0013 8000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "８６１３８００１３８０００",
        "１３８－００１３－８０００",
    ],
)
def test_normalise_phone_mobile(written):
    assert rules.normalise_phone(written) == "13800138000"


@pytest.mark.parametrize(
    "written", ["010-6552-9988", "(010) 65529988", "０１０－６５５２９９８８", "+86 010 6552 9988"]
)
def test_normalise_phone_landline(written):
    assert rules.normalise_phone(written) == "01065529988"


@pytest.mark.parametrize("written", [None, "", "   ", "n/a"])
def test_normalise_phone_without_digits_is_none(written):
    assert rules.normalise_phone(written) is None


def test_normalise_email_folds_case_width_and_spaces():
    assert rules.normalise_email("  Zhang.Wei@BaiChuan.COM ") == "zhang.wei@baichuan.com"
    assert rules.normalise_email("ｚｗ＠ｅｘａｍｐｌｅ．ｃｏｍ") == "zw@example.com"
    assert rules.normalise_email(None) is None
    assert rules.normalise_email("") is None
