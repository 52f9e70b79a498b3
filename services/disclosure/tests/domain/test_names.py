"""The rule over a segmenter's person-name tags (``domain/names.py``), on tagged words written out by hand."""

from __future__ import annotations

from guidance_disclosure.domain.names import NameSpan, mentions_a_role, person_names


def names(
    text: str, tagged: list[tuple[str, str]], public: list[tuple[int, int]] | None = None
) -> list[tuple[str, bool]]:
    assert "".join(word for word, _ in tagged) == text
    return [(text[n.start : n.end], n.certain) for n in person_names(text, tagged, public or [])]


def test_a_role_word_before_a_tagged_name_makes_it_certain() -> None:
    text = "店员王小红称不知情"
    assert names(text, [("店员", "n"), ("王小红", "nr"), ("称", "v"), ("不知情", "l")]) == [("王小红", True)]


def test_a_form_of_address_after_it_or_a_list_after_a_certain_name_too() -> None:
    assert names("王建国先生到场", [("王建国", "nr"), ("先生", "n"), ("到场", "v")]) == [("王建国", True)]
    text = "证人李四、刘德华证实"
    tagged = [("证人", "n"), ("李四", "nr"), ("、", "x"), ("刘德华", "nr"), ("证实", "v")]
    assert names(text, tagged) == [("李四", True), ("刘德华", True)]


def test_a_name_cut_in_two_is_one_name() -> None:
    text = "其妻子陈美玲陪同"
    tagged = [("其", "r"), ("妻子", "n"), ("陈", "nr"), ("美玲", "nr"), ("陪同", "v")]
    assert names(text, tagged) == [("陈美玲", True)]
    text = "法定代表人赵建国到场"
    assert names(text, [("法定代表", "n"), ("人", "n"), ("赵", "nr"), ("建国", "ns"), ("到场", "v")]) == [
        ("赵建国", True)
    ]


def test_a_tagged_name_without_a_role_is_uncertain() -> None:
    assert names("经王小红同意", [("经", "p"), ("王小红", "nr"), ("同意", "v")]) == [("王小红", False)]


def test_an_untagged_surname_after_a_role_word_is_uncertain() -> None:
    text = "证人钱多多在场"
    assert names(text, [("证人", "n"), ("钱", "n"), ("多多", "d"), ("在场", "v")]) == [("钱多多", False)]


def test_what_is_not_a_persons_name_is_left_alone() -> None:
    # No surname; an everyday surname or the ending of a law or a shop without a role word; too long.
    assert names("老王面馆", [("老王", "nr"), ("面馆", "n")]) == []
    assert names("食品安全法", [("食品", "n"), ("安全法", "nr")]) == []
    assert names("李记副食店", [("李记副食店", "nr")]) == []
    assert names("李记副食店", [("李记", "nr"), ("副食店", "n")]) == []  # a shop's brand (X记)
    assert names("王府井大街", [("王府井大街", "nr")]) == []
    assert names("当事人应当改正", [("当事人", "n"), ("应当", "v"), ("改正", "v")]) == []
    assert names("店员王**称", [("店员", "n"), ("王", "nr"), ("**", "x"), ("称", "v")]) == []
    assert names("当事人张某某经营", [("当事人", "n"), ("张", "q"), ("某某", "r"), ("经营", "vn")]) == []
    # After a role word, a word the segmenter knows (陈述 is in its dictionary) is that word, not a name.
    assert names("当事人陈述、申辩", [("当事人", "n"), ("陈述", "n"), ("、", "x"), ("申辩", "v")]) == []


def test_a_public_name_is_neither_certain_nor_uncertain() -> None:
    text = "执法人员赵强、孙丽回访"
    tagged = [("执法人员", "n"), ("赵强", "nr"), ("、", "x"), ("孙丽", "nr"), ("回访", "v")]
    assert names(text, tagged, [(4, 6), (7, 9)]) == []
    assert names(text, tagged) == []  # named as officers by the text itself
    text = "由赵强、孙丽回访"
    tagged = [("由", "p"), ("赵强", "nr"), ("、", "x"), ("孙丽", "nr"), ("回访", "v")]
    assert names(text, tagged) == [("赵强", False), ("孙丽", False)]
    assert names(text, tagged, [(1, 3), (4, 6)]) == []


def test_a_certain_name_needs_a_role_word_somewhere() -> None:
    assert mentions_a_role("店员王小红") and mentions_a_role("王先生")
    assert not mentions_a_role("经营超过保质期的食品")
    assert NameSpan(0, 2, True).certain
