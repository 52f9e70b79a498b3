"""Free text as the projection writes it, with the real segmenter (jieba): names in context, numbers as typed,
values found again by their keyed marks; and the segmenter is loaded once, never at import."""

from __future__ import annotations

import subprocess
import sys

from guidance_disclosure.adapters import names
from guidance_disclosure.adapters.redaction import Known, known_of, public_text, uncertain_names
from guidance_shared.privacy import REDACTED

KEY = b"a test scrub key of thirty-two bytes"
PERSON = {
    "kind": "person",
    "name": "张三丰",
    "id_no": "110101199003071234",
    "address": "长沙市建设路12号",
    "contact": "13812345678",
}
SHOP = {
    "kind": "individual_business",
    "name": "老王面馆",
    "legal_representative": "王建国",
    "id_no": "430102198001011234",
}
COMPANY = {"kind": "enterprise", "name": "某县宏达食品有限公司", "legal_representative": "赵建国"}
OFFICERS = [{"name": "刘晓燕"}, {"name": "孙立新"}]


def test_the_segmenter_is_not_loaded_at_import_and_is_loaded_once() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, guidance_disclosure.bootstrap; print('jieba' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"
    assert names.tagger() is names.tagger()


def test_names_in_context_are_masked_when_the_text_says_they_are_persons() -> None:
    known = known_of(SHOP, officers=OFFICERS)
    text = "经营者王建国未公示营业执照，店员李小红称不知情，证人陈美玲、周杰证实；执法人员刘晓燕、孙立新在场。"
    assert public_text(text, known) == (
        "经营者王**未公示营业执照，店员李**称不知情，证人陈**、周*证实；执法人员刘晓燕、孙立新在场。"
    )
    assert uncertain_names([public_text(text, known)], known) == []


def test_an_uncertain_name_is_listed_for_review_not_masked() -> None:
    known = known_of(COMPANY, officers=OFFICERS)
    text = "经查，该店由钱多宝负责日常经营。"
    assert public_text(text, known) == text
    assert uncertain_names([text], known) == ["钱多宝"]


def test_everyday_words_the_dictionary_tags_as_names_are_not_names() -> None:
    known = known_of(COMPANY)
    text = "你单位未将食品经营许可证悬挂；可以在五个工作日内向本局陈述意见。违反《中华人民共和国食品安全法》。"
    assert public_text(text, known) == text
    assert uncertain_names([text], known) == []


def test_an_enterprises_legal_representative_is_public_as_双公示_publishes_it() -> None:
    # 双公示 publishes CF_FRDB: the name an enterprise registered as its legal representative is not masked
    assert public_text("法定代表人赵建国到场接受约谈", known_of(COMPANY)) == "法定代表人赵建国到场接受约谈"


def test_an_individual_business_operator_is_masked_as_the_natural_person_they_are() -> None:
    shop = {**COMPANY, "kind": "individual_business", "name": "某县建国副食店"}
    assert public_text("经营者赵建国到场接受约谈", known_of(shop)) == "经营者赵**到场接受约谈"


def test_a_persons_own_data_is_removed_however_typed() -> None:
    known = known_of(PERSON)
    text = "当事人张三丰（身份证１１０１０１ １９９００３０７ １２３４，住长沙市 建设路１２号，电话138-1234-5678）"
    assert public_text(text, known) == f"当事人张**（身份证{REDACTED}，住{REDACTED}，电话{REDACTED}）"


def test_the_marks_find_what_the_values_found() -> None:
    kept = known_of(PERSON, officers=OFFICERS).marked(KEY)
    assert kept.names == () and kept.secrets == () and kept.public == ("刘晓燕", "孙立新")
    text = "当事人张三丰，住长沙市建设路12号，已于3月改正。执法人员刘晓燕回访。"
    assert public_text(text, kept, KEY) == f"当事人张**，住{REDACTED}，已于3月改正。执法人员刘晓燕回访。"
    assert public_text(text, kept, b"another key of thirty-two bytes!!") != public_text(text, kept, KEY)
    assert public_text(text, Known(), KEY) != public_text(text, kept, KEY)
