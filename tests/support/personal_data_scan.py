"""The whole-system proof of docs/personal-data.md (issue 14, point 7): generated natural persons, and scans of
every place the suite keeps or writes bytes — every record of every topic on the broker, every row of every
table of every service's database, the raw bytes of every file the services wrote (SQLite files and their
``-wal``, logs, checkpoint files) — for any of their ID numbers, phones, addresses or names in clear.

A hit names its place (topic/partition/offset, database/table/column/row, file/line) and which generated
person's which field it is, never the value itself: a failing run must not print the personal data it found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine

from guidance_shared.personal_data.field import is_sealed

# --- generated persons --------------------------------------------------------------------------------------

#: GB 11643-1999: weights of the first 17 digits; the check character is CHECK[sum mod 11]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
#: administrative division codes (GB/T 2260) of real counties and districts
AREAS = ("110105", "310104", "330106", "410102", "420106", "430104", "440305", "510107", "610113", "650102")
PROVINCES = (
    ("浙江省", "杭州市", "西湖区"),
    ("湖南省", "长沙市", "岳麓区"),
    ("河南省", "郑州市", "中原区"),
    ("四川省", "成都市", "武侯区"),
    ("广东省", "深圳市", "南山区"),
    ("湖北省", "武汉市", "武昌区"),
)
ROADS = ("梧桐", "青檀", "枫杨", "栖霞", "望湖", "翠屏", "临溪", "松鹤", "紫荆", "银杏")
ROAD_KINDS = ("路", "街", "巷", "大道")
SURNAMES = ("欧阳", "司马", "诸葛", "上官", "闻人", "赫连", "皇甫", "尉迟", "慕容", "东方")
GIVEN = "璟瑄珩琰玥琬瑾璇翊珮骞昶煦晗"
#: the oldest birth date generated, and the youngest (adults on any date the suite records acts for)
BORN_FROM, BORN_TO = date(1940, 1, 1), date(2000, 12, 31)


def check_character(first17: str) -> str:
    """GB 11643's check character of a resident ID number's first 17 digits."""
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def resident_id(area: str, born: date, sequence: int) -> str:
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def uscc(body: str) -> str:
    """A 统一社会信用代码 of an individual business (GB 32100: registration authority 9, kind 2) with its check
    character: ``body`` is the 15 characters after ``92`` (a division code, then 9 of the code's alphabet)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    first17 = "92" + body
    total = sum(alphabet.index(c) * w for c, w in zip(first17, weights, strict=True))
    return first17 + alphabet[(31 - total % 31) % 31]


@dataclass(frozen=True)
class Person:
    """A natural person the test generated: a resident (kind ``person``) or an individual business's operator."""

    kind: str  # "person" or "individual_business"
    name: str  # the person's name; for an individual business, the operator's (legal_representative)
    id_no: str | None  # a resident's ID number; an individual business is named by its credit code
    phone: str
    address: str
    business_uscc: str | None = None
    business_name: str | None = None  # the registered 字号: public (docs/personal-data.md §6)

    def __repr__(self) -> str:
        """What hypothesis prints of a failing example: never the values (a log must not hold them)."""
        return f"Person({self.kind})"

    @property
    def counterpart(self) -> dict[str, Any]:
        if self.kind == "person":
            return {
                "kind": "person",
                "name": self.name,
                "uscc": None,
                "id_type": "resident_id",
                "id_no": self.id_no,
                "legal_representative": None,
                "address": self.address,
                "contact": self.phone,
            }
        return {
            "kind": "individual_business",
            "name": self.business_name,
            "uscc": self.business_uscc,
            "id_type": None,
            "id_no": None,
            "legal_representative": self.name,
            "address": self.address,
            "contact": self.phone,
        }

    @property
    def erasure(self) -> dict[str, str]:
        """How intake's erasure API names them."""
        return {"id_no": self.id_no} if self.id_no else {"uscc": str(self.business_uscc)}

    def values(self) -> dict[str, str]:
        """The personal values that must never be found in clear, by what they are."""
        found = {"name": self.name, "phone": self.phone, "address": self.address}
        if self.id_no:
            found["id_no"] = self.id_no
        return found

    def sealed_value(self, path: str) -> str | None:
        """What a field sealed at ``path`` (``counterpart.contact`` …) must open to."""
        last = path.rsplit(".", 1)[-1]
        return {
            "id_no": self.id_no,
            "contact": self.phone,
            "address": self.address,
            "legal_representative": self.name,
            "name": self.name,
        }.get(last)


@st.composite
def people(draw: st.DrawFn, business: bool) -> Person:
    surname = draw(st.sampled_from(SURNAMES))
    given = draw(st.text(GIVEN, min_size=2, max_size=2))
    phone = "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    province, city, district = draw(st.sampled_from(PROVINCES))
    road = draw(st.sampled_from(ROADS)) + draw(st.sampled_from(ROAD_KINDS))
    number, building, room = (draw(st.integers(1, 999)), draw(st.integers(1, 30)), draw(st.integers(101, 2808)))
    address = f"{province}{city}{district}{road}{number}号{building}栋{room}室"
    if business:
        body = draw(st.sampled_from(AREAS)) + draw(st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9))
        shop = draw(st.sampled_from(ROADS)) + draw(st.sampled_from(("副食店", "理发店", "小吃店", "五金店")))
        return Person("individual_business", surname + given, None, phone, address, uscc(body), f"{city}{shop}")
    area = draw(st.sampled_from(AREAS))
    born = BORN_FROM + timedelta(days=draw(st.integers(0, (BORN_TO - BORN_FROM).days)))
    sequence = draw(st.integers(0, 999))
    if draw(st.booleans()):  # about one in eleven numbers ends in X: make them common enough to be generated
        sequence = next(s for s in [*range(sequence, 1000), *range(sequence)] if resident_id(area, born, s)[-1] == "X")
    return Person("person", surname + given, resident_id(area, born, sequence), phone, address)


def populations(min_size: int = 3, max_size: int = 5) -> st.SearchStrategy[list[Person]]:
    """A list of distinct persons (:func:`mixed`)."""
    one = st.one_of(people(business=False), people(business=False), people(business=True))
    return st.lists(
        one,
        min_size=min_size,
        max_size=max_size,
        unique_by=(lambda p: p.name, lambda p: p.phone, lambda p: p.address, lambda p: p.id_no or p.business_uscc),
    ).filter(mixed)


def mixed(group: Sequence[Person]) -> bool:
    """An individual business, and residents, one of whose ID numbers ends in the check character X."""
    residents = [p.id_no for p in group if p.id_no]
    return len(residents) < len(group) and any(n.endswith("X") for n in residents)


# --- what is searched for -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needle:
    """One byte form of one person's value; ``label`` names it without the value (``person 3 id_no (json)``)."""

    label: str
    data: bytes


def needles(persons: Sequence[Person], start: int = 0) -> list[Needle]:
    """Each value as UTF-8 and in its JSON ``\\uXXXX`` form (lower and upper case hex); an ID number ending in
    X also with a lowercase x."""
    found: list[Needle] = []
    for index, person in enumerate(persons, start):
        for what, value in person.values().items():
            forms = {"utf-8": value}
            if what == "id_no" and value.endswith("X"):
                forms["lowercase x"] = value[:-1] + "x"
            for form, written in list(forms.items()):
                escaped = json.dumps(written)[1:-1]
                if escaped != written:
                    forms[f"{form}, json"] = escaped
                    forms[f"{form}, JSON"] = escaped.replace("\\u", "\\U").upper().replace("\\U", "\\u")
            for form, written in forms.items():
                found.append(Needle(f"person {index} ({person.kind}) {what} [{form}]", written.encode("utf-8")))
    return found


@dataclass
class Hits:
    """Where generated values were found: ``place: label`` lines, never the values themselves."""

    places: list[str] = field(default_factory=list)

    def search(self, place: str, data: bytes, wanted: Sequence[Needle]) -> None:
        for needle in wanted:
            if needle.data in data:
                self.places.append(f"{place}: {needle.label}")

    def __bool__(self) -> bool:
        return bool(self.places)

    def report(self, limit: int = 60) -> str:
        shown = "\n  ".join(self.places[:limit])
        more = f"\n  … and {len(self.places) - limit} more" if len(self.places) > limit else ""
        return f"{len(self.places)} hit(s) of generated personal data in clear:\n  {shown}{more}"


# --- the broker ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]

    @property
    def place(self) -> str:
        return f"topic {self.topic} partition {self.partition} offset {self.offset}"


def every_topic_record(bootstrap: str, *, only_prefix: str | None = None) -> Iterator[TopicRecord]:
    """Every record of every topic on the broker (or only those named ``<only_prefix>.…``), each partition from
    its beginning to the end it had when the reading began."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="pd-scan")
    try:
        topics = sorted(t for t in admin.list_topics() if only_prefix is None or t.startswith(f"{only_prefix}."))
    finally:
        admin.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        ends = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > 0}
        if not ends:
            return
        consumer.assign(list(ends))
        consumer.seek_to_beginning(*ends)
        remaining = dict(ends)
        while remaining:
            batches = consumer.poll(timeout_ms=2000, max_records=2000)
            for tp, messages in batches.items():
                for m in messages:
                    if m.offset < ends[tp]:
                        yield TopicRecord(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers))
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.pop(tp, None)
            for tp in list(remaining):
                if consumer.position(tp) >= ends[tp]:  # compacted or deleted records: nothing more to come
                    remaining.pop(tp)
    finally:
        consumer.close()


def scan_topics(bootstrap: str, wanted: Sequence[Needle], hits: Hits) -> int:
    """Every byte of every record (key, value, header names and values); the number of records read."""
    read = 0
    for record in every_topic_record(bootstrap):
        read += 1
        parts = [record.key or b"", record.value or b""]
        for name, value in record.headers:
            parts += [name.encode("utf-8"), value or b""]
        hits.search(record.place, b"\x00".join(parts), wanted)
    return read


# --- databases ----------------------------------------------------------------------------------------------


def table_names(engine: Engine) -> list[tuple[str | None, str]]:
    """Every table: on SQLite as ``sqlite_master`` lists them, on PostgreSQL in every schema but the system's."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
            return [(None, str(name)) for (name,) in rows]
        rows = conn.execute(
            text(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
            )
        )
        return [(str(schema), str(name)) for schema, name in rows]


def as_bytes(value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    return str(value).encode("utf-8")


def every_row(engine: Engine) -> Iterator[tuple[str, str, int, Mapping[str, Any]]]:
    """(table, column names, row number, row) for every row of every table."""
    for schema, name in table_names(engine):
        metadata = MetaData(schema=schema)
        table = metadata.tables.get(name) or _reflect(engine, metadata, name)
        with engine.connect() as conn:
            for number, row in enumerate(conn.execute(select(table)), 1):
                yield (f"{schema}.{name}" if schema else name), ",".join(row._mapping.keys()), number, row._mapping


def _reflect(engine: Engine, metadata: MetaData, name: str) -> Any:
    from sqlalchemy import Table

    return Table(name, metadata, autoload_with=engine)


def scan_database(service: str, engine: Engine, wanted: Sequence[Needle], hits: Hits) -> int:
    """Every column of every row of every table; the number of rows read."""
    rows = 0
    for table, _, number, row in every_row(engine):
        rows += 1
        for column, value in row.items():
            hits.search(f"database {service} table {table} column {column} row {number}", as_bytes(value), wanted)
    return rows


# --- files ----------------------------------------------------------------------------------------------------


def scan_files(root: Path, wanted: Sequence[Needle], hits: Hits) -> list[Path]:
    """The raw bytes of every file under ``root`` (databases, their ``-wal`` and ``-shm``, logs, checkpoint
    files …); a hit in a file names its line. The files read."""
    read = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except OSError:  # removed while listed (a rebuild's sandbox): nothing left to read
            continue
        read.append(path)
        for needle in wanted:
            at = data.find(needle.data)
            while at >= 0:
                line = data.count(b"\n", 0, at) + 1
                hits.places.append(f"file {path.relative_to(root)} line {line} byte {at}: {needle.label}")
                at = data.find(needle.data, at + 1)
    return read


def file_holds(paths: Iterable[Path], blob: bytes) -> list[str]:
    """The files (of ``paths``) whose raw bytes contain ``blob``."""
    return [str(p) for p in paths if p.exists() and blob in p.read_bytes()]


def sqlite_files(database: Path) -> list[Path]:
    return [p for p in (database, Path(f"{database}-wal"), Path(f"{database}-journal")) if p.exists()]


# --- sealed fields --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedAt:
    place: str
    path: str  # where in its JSON document (``data.counterpart.id_no``)
    sealed: Mapping[str, Any]

    @property
    def kid(self) -> str:
        return str(self.sealed["kid"])

    @property
    def field(self) -> str:
        return str(self.sealed["aad"]["field"])


def sealed_in(document: object, place: str, path: str = "") -> Iterator[SealedAt]:
    """Every sealed field object anywhere in a JSON document."""
    if is_sealed(document):
        assert isinstance(document, Mapping)
        yield SealedAt(place, path, document)
    elif isinstance(document, Mapping):
        for key, value in document.items():
            yield from sealed_in(value, place, f"{path}.{key}" if path else str(key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from sealed_in(value, place, f"{path}[{index}]")
    elif isinstance(document, str | bytes) and document[:1] in ("{", "[", b"{", b"["):
        try:
            parsed = json.loads(document)
        except ValueError:
            return
        yield from sealed_in(parsed, place, path)


def sealed_on_topics(bootstrap: str, prefix: str) -> list[SealedAt]:
    return [s for r in every_topic_record(bootstrap, only_prefix=prefix) for s in sealed_in(r.value, r.place)]


def sealed_in_database(service: str, engine: Engine) -> list[SealedAt]:
    found = []
    for table, _, number, row in every_row(engine):
        for column, value in row.items():
            found += sealed_in(value, f"database {service} table {table} column {column} row {number}")
    return found


def wrapped_keys(engine: Engine, kids: Iterable[str]) -> dict[str, bytes]:
    """The wrapped data keys intake's key store still holds for ``kids`` (an erased key's is empty)."""
    from guidance_intake.adapters.subject_keys import subject_keys

    with engine.connect() as conn:
        rows = conn.execute(
            select(subject_keys.c.key_id, subject_keys.c.wrapped_key).where(subject_keys.c.key_id.in_(sorted(kids)))
        )
        return {str(kid): bytes(blob) for kid, blob in rows if blob is not None}
