"""Natural persons' names in free text: which a segmenter's person-name tags are certain, which need a reviewer.

The segmenter (``adapters/names.py``: jieba's part-of-speech tagging) says which words it takes for a
person's name (``nr``). Its word alone is not proof: it also tags place and shop names, and it misses
names it has never seen. The rule here, over its output:

- a **candidate** is a run of consecutive ``nr`` words (jieba often cuts an unknown name in two:
  陈/nr 美玲/nr) two to four characters long, Chinese characters only, starting with a common surname;
- a candidate is **certain** when a role word stands right before it (店员王小红, 证人：李四, 经营者
  王建国), a form of address right after it (王建国先生), or it follows a certain name in a list
  (证人李四、刘德华): the text itself says it is a person. A certain name is masked like the names
  the events carry (张三 → 张**);
- any other candidate is **uncertain**, unless it starts with a surname that is also an everyday word
  (安全法) or ends like a law, place, body or thing (…法, …局, …店), which drops it. A surname and
  one or two characters right after a role word are uncertain too, unless the segmenter read a word
  of its own there (当事人陈述).
  An uncertain name sends the item to the review queue instead of being published, and the
  reviewer decides;
- words inside a name that is public anyway (the counterpart organisation's name, such as 老王面馆;
  the officers who acted) are neither, and nor are names right after 执法人员 and the like (officers).

Pure: it takes the tagged words, never the segmenter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The most common single-character surnames (about nine in ten people in China carry one of them) and the
#: compound ones still in use.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆"
    "乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平"
    "计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈"
    "湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐"}
)

#: Surnames that are also everyday words (于, 和, 应 …): right after a role word they are far more often the
#: start of a verb phrase (当事人应当, 负责人和店员) than of a name, so only a segmenter's tag makes them candidates.
EVERYDAY_SURNAMES = frozenset(
    "于和都但由来信时平全成万明文安应向利相初门计支国位区海花权强原南乐惠富展元公那修宣敬容云普伏薄干尉植衣居束师"
)

#: Last characters of the words the segmenter takes for names that are laws, places, bodies or things.
NOT_A_NAME_END = frozenset("法条款项局厅部委办省市县区镇乡村街路号所店司厂院校会证品物费额元记")

#: Words that say the name after them is a person's: staff, witnesses, operators, family, parties.
ROLE_WORDS = (
    "店员",
    "营业员",
    "收银员",
    "服务员",
    "售货员",
    "员工",
    "职工",
    "雇员",
    "厨师",
    "司机",
    "驾驶员",
    "证人",
    "目击者",
    "见证人",
    "经营者",
    "业主",
    "户主",
    "店主",
    "老板",
    "负责人",
    "法定代表人",
    "当事人",
    "投诉人",
    "举报人",
    "申请人",
    "消费者",
    "顾客",
    "妻子",
    "丈夫",
    "家属",
    "亲属",
    "联系人",
    "监护人",
    "代理人",
    "陪同人",
    "房东",
    "租户",
    "股东",
    "会计",
    "出纳",
    "姓名",
)
#: Words that say the names after them are officers': they act for the administration, and their names are
#: public (the events' own officers are public too, by name).
OFFICER_WORDS = ("执法人员", "执法员", "承办人员", "承办人", "检查人员")

#: Forms of address after a name.
ADDRESS_WORDS = ("先生", "女士", "同志", "师傅")

_ROLE_BEFORE = re.compile("(?:" + "|".join(ROLE_WORDS) + r")[:：\s]{0,2}$")
_ADDRESS_AFTER = re.compile("^(?:" + "|".join(ADDRESS_WORDS) + ")")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_UNTAGGED_AFTER_ROLE = re.compile("(?:" + "|".join(ROLE_WORDS) + r")[:：\s]{0,2}([\u3400-\u4dbf\u4e00-\u9fff]{2,3})")
_OFFICERS_BEFORE = re.compile(
    "(?:" + "|".join(OFFICER_WORDS) + r")[:：\s]{0,2}(?:[\u3400-\u4dbf\u4e00-\u9fff]{2,4}(?:、|和|及|与))*$"
)
_LISTED = re.compile(r"\s*(?:、|，|,|和|及|与)\s*")  # between two names of one list: 证人李四、刘德华
_MENTIONS_A_ROLE = re.compile("|".join((*ROLE_WORDS, *ADDRESS_WORDS)))


@dataclass(frozen=True)
class NameSpan:
    start: int
    end: int
    certain: bool


def mentions_a_role(text: str) -> bool:
    """Whether a role word or a form of address occurs at all: a certain name needs one (a quick test)."""
    return _MENTIONS_A_ROLE.search(text) is not None


def starts_with_surname(word: str) -> bool:
    return word[:2] in COMPOUND_SURNAMES or word[:1] in SURNAMES


def person_names(
    text: str, tagged: Sequence[tuple[str, str]], public: Sequence[tuple[int, int]] = ()
) -> list[NameSpan]:
    """The candidates in ``text`` (see the module docstring); ``tagged`` is the segmenter's (word, tag) list
    for exactly ``text``, ``public`` the spans of names that are public anyway."""
    found: list[NameSpan] = []
    for start, end in _tagged_runs(tagged):
        word = text[start:end]
        if not 2 <= len(word) <= 4 or not _CJK.fullmatch(word) or not starts_with_surname(word) or "某" in word:
            continue  # 某 stands for a name already withheld (张某, 王某某)
        if _overlaps(start, end, public) or _OFFICERS_BEFORE.search(text, 0, start) is not None:
            continue
        certain = (
            _ROLE_BEFORE.search(text, 0, start) is not None
            or _ADDRESS_AFTER.match(text[end:]) is not None
            or (bool(found) and found[-1].certain and _LISTED.fullmatch(text[found[-1].end : start]) is not None)
        )
        if not certain and (word[0] in EVERYDAY_SURNAMES or word[-1] in NOT_A_NAME_END):
            continue  # 安全法, 万元户: an everyday word or an institution, unless the text says it is a person
        found.append(NameSpan(start, end, certain))
    words = _words_by_start(tagged)
    for match in _UNTAGGED_AFTER_ROLE.finditer(text):
        start, end = match.span(1)
        word = match.group(1)
        if not starts_with_surname(word) or word[0] in EVERYDAY_SURNAMES or "某" in word:
            continue
        if len(words.get(start, "")) > 1:
            continue  # the segmenter read a word of its own there (当事人陈述), and it is not a name
        if not _overlaps(start, end, [(s.start, s.end) for s in found]) and not _overlaps(start, end, public):
            found.append(NameSpan(start, end, certain=False))
    return sorted(found, key=lambda s: s.start)


def _words_by_start(tagged: Sequence[tuple[str, str]]) -> dict[int, str]:
    """Each word that is not tagged as a name, by where it starts."""
    words: dict[int, str] = {}
    at = 0
    for word, tag in tagged:
        if not tag.startswith("nr"):
            words[at] = word
        at += len(word)
    return words


def _tagged_runs(tagged: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    """(start, end) of each run of consecutive person-name words. A run that is a lone surname takes the
    word after it when that is one or two Chinese characters: jieba cuts 赵建国 into 赵/nr 建国/ns."""
    runs: list[tuple[int, int]] = []
    at = 0
    run_start: int | None = None
    for index, (word, tag) in enumerate(tagged):
        if tag.startswith("nr"):
            run_start = at if run_start is None else run_start
        elif run_start is not None:
            lone = at - run_start == 1 and tagged[index - 1][0] in SURNAMES
            if lone and len(word) <= 2 and _CJK.fullmatch(word):
                runs.append((run_start, at + len(word)))
            else:
                runs.append((run_start, at))
            run_start = None
        at += len(word)
    if run_start is not None:
        runs.append((run_start, at))
    return runs


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)
