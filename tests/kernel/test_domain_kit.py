"""The pieces every aggregate and handler stands on: dispatch tables, the repository, China's days."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.dates import (
    CHINA_TZ,
    as_date,
    as_moment,
    china_day,
    china_today,
    iso,
    optional_date,
    optional_iso,
    optional_moment,
)
from guidance_shared.db import make_engine
from guidance_shared.dispatch import EventHandlers
from guidance_shared.errors import ConcurrencyError, GuidanceError, NotFound
from guidance_shared.events import default_registry
from guidance_shared.events.common import Officer as OfficerSchema
from guidance_shared.eventstore import EventStore
from guidance_shared.flow import Flow, flow_scope, parse_traceparent
from guidance_shared.handling import valid_event_data
from guidance_shared.messages import StoredEvent
from guidance_shared.officers import Officer
from guidance_shared.repository import Repository
from tests.support.schema import kernel_tables

OPENED, RENAMED = "test.Opened.v1", "test.Renamed.v1"


@dataclass
class Folder(Aggregate):
    folder_id: str
    name: str = ""
    renames: int = 0
    seen: list[str] = field(default_factory=list)

    def open(self, name: str) -> None:
        self.record(OPENED, {"name": name})

    def rename(self, name: str) -> None:
        if name == self.name:
            raise ValueError("same name")
        self.record(RENAMED, {"name": name})

    def _opened(self, data: dict[str, Any]) -> None:
        self.name = data["name"]

    def _renamed(self, data: dict[str, Any]) -> None:
        self.name = data["name"]
        self.renames += 1

    appliers = EventHandlers({OPENED: _opened, RENAMED: _renamed}, ignored=("test.Noted.v1",))


# -- dispatch --------------------------------------------------------------------------------


def test_an_aggregate_applies_each_event_through_its_table_and_refuses_one_it_does_not_know() -> None:
    folder = Folder("f-1")
    folder.open("案卷")
    folder.rename("指导案卷")
    assert (folder.name, folder.renames, folder.stream_id) == ("指导案卷", 1, "f-1")
    folder._apply("test.Noted.v1", {})  # ignored types are named, and pass
    with pytest.raises(ValueError, match=r"no applier for test\.Unknown\.v1"):
        folder._apply("test.Unknown.v1", {})


def test_a_type_is_handled_or_ignored_never_both() -> None:
    with pytest.raises(ValueError, match="handled and ignored"):
        EventHandlers({OPENED: 1}, ignored=(OPENED,))


def test_check_covers_names_what_is_missing_and_what_is_not_on_the_topics() -> None:
    handlers = EventHandlers({catalogue.CASE_CLOSED: 1}, ignored=(catalogue.CASE_OPENED, "guidance.Nope.v1"))
    with pytest.raises(AssertionError) as caught:
        handlers.check_covers(catalogue.types_on(catalogue.INTAKE_EVENTS))
    assert catalogue.GUIDANCE_ISSUED in str(caught.value) and "guidance.Nope.v1" in str(caught.value)
    EventHandlers({t: 1 for t in catalogue.types_on(catalogue.INTAKE_EVENTS)}).check_covers(
        catalogue.types_on(catalogue.INTAKE_EVENTS)
    )


def test_the_catalogue_names_are_the_registry_types_topic_by_topic() -> None:
    registry = default_registry()
    by_topic: dict[str, list[str]] = {}
    for event_type in registry.all():
        by_topic.setdefault(event_type.topic, []).append(event_type.ce_type)
    assert {topic: tuple(types) for topic, types in by_topic.items()} == catalogue.TYPES_ON


def test_the_domain_kit_imports_no_persistence() -> None:
    code = (
        "import sys, guidance_shared.aggregate, guidance_shared.dates, guidance_shared.catalogue, "
        "guidance_shared.workdays; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy','cloudevents','msgspec','yaml','flask',"
        "'marshmallow','kafka'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- repository ------------------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Any) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'repo.sqlite'}")
    kernel_tables(engine)
    return engine


def _folders(engine: Engine, projected: list[StoredEvent]) -> Repository[Folder]:
    store = EventStore(engine, source="/guidance/test", topic="intake.events")

    def project(_conn: Connection, events: list[StoredEvent]) -> None:
        projected.extend(events)

    return Repository(store, Folder, "Folder", "folder", "案卷", project)


def test_the_repository_saves_with_the_read_model_and_loads_at_the_version(engine: Engine) -> None:
    projected: list[StoredEvent] = []
    folders = _folders(engine, projected)
    flow = Flow(correlation_id="corr-1", causation_id="req-1", traceparent=f"00-{'a' * 32}-{'b' * 16}-01")
    with engine.begin() as conn, flow_scope(flow):
        folder = Folder("f-1")
        folder.open("案卷")
        folders.save(conn, folder)
    assert folder.version == 1 and not folder.pending and [e.type for e in projected] == [OPENED]
    assert projected[0].meta == {"correlation_id": "corr-1", "causation_id": "req-1", "traceparent": flow.traceparent}
    with engine.begin() as conn:
        changed = folders.change(conn, "f-1", lambda f: f.rename("新案卷"), expected_version=1)
    assert (changed.version, changed.name) == (2, "新案卷")
    # Outside any flow (a periodic task), the events start one: a new trace whose id correlates them.
    outside = projected[1].meta
    trace = parse_traceparent(outside["traceparent"])
    assert trace is not None and trace.trace_id == outside["correlation_id"] != "corr-1"
    with engine.connect() as conn:
        assert folders.load(conn, "f-1").renames == 1 and folders.exists(conn, "f-1")
        assert not folders.exists(conn, "f-2")


def test_the_repository_refuses_a_stale_version_a_missing_stream_and_a_stream_of_another_type(engine: Engine) -> None:
    folders = _folders(engine, [])
    with engine.begin() as conn:
        folder = Folder("f-1")
        folder.open("案卷")
        folders.save(conn, folder)
    with engine.begin() as conn, pytest.raises(ConcurrencyError):
        folders.change(conn, "f-1", lambda f: f.rename("x"), expected_version=7)
    with engine.begin() as conn, pytest.raises(NotFound, match="No folder with id f-9"):
        folders.load(conn, "f-9")
    others = Repository(folders.store, Folder, "Binder", "binder", "卷宗", lambda _c, _e: None)
    with engine.begin() as conn, pytest.raises(NotFound):
        others.load(conn, "f-1")


def test_two_writers_from_one_version_one_wins(engine: Engine) -> None:
    folders = _folders(engine, [])
    with engine.begin() as conn:
        folder = Folder("f-1")
        folder.open("案卷")
        folders.save(conn, folder)
    with engine.connect() as conn:
        first, second = folders.load(conn, "f-1"), folders.load(conn, "f-1")
    first.rename("甲")
    second.rename("乙")
    with engine.begin() as conn:
        folders.save(conn, first)
    with engine.begin() as conn, pytest.raises(ConcurrencyError):
        folders.save(conn, second)


# -- dates -----------------------------------------------------------------------------------


def test_china_day_is_the_beijing_calendar_day_of_a_moment() -> None:
    late_utc = datetime(2025, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Beijing
    assert china_day(late_utc) == date(2025, 3, 2)
    assert china_day("2025-03-01T17:30:00+00:00") == date(2025, 3, 2)
    assert china_day("2025-03-01T23:30:00") == date(2025, 3, 1)  # naive text is Beijing time
    assert china_day(date(2025, 3, 1)) == date(2025, 3, 1)
    assert china_day("2025-03-01") == date(2025, 3, 1)
    assert china_today(late_utc) == date(2025, 3, 2)


def test_loose_values_become_dates_moments_and_text() -> None:
    assert as_date("2025-03-01T23:59:00+08:00") == date(2025, 3, 1)
    assert as_date(datetime(2025, 3, 1, 23, 0, tzinfo=UTC)) == date(2025, 3, 1)  # its own date, as written
    assert optional_date(None) is None and optional_date("") is None
    assert as_moment("2025-03-01T08:00:00").tzinfo is CHINA_TZ
    assert as_moment("2025-03-01T08:00:00Z").tzinfo is not None
    assert optional_moment("") is None
    assert iso(date(2025, 3, 1)) == "2025-03-01" and iso("2025-03-01") == "2025-03-01"
    assert optional_iso(None) is None and optional_iso(datetime(2025, 3, 1, tzinfo=UTC)) == "2025-03-01T00:00:00+00:00"


# -- handler support -------------------------------------------------------------------------


def test_event_data_the_contract_refuses_is_a_422_naming_the_field_and_whose_rules_it_broke() -> None:
    registry = default_registry()
    with pytest.raises(GuidanceError) as default:
        valid_event_data(registry, catalogue.REVISIT_CANCELLED, {"revisit_id": "not-a-uuid"})
    assert default.value.status == 422 and "revisit_id" in [p.field for p in default.value.fields]
    assert "rules of the record" in default.value.detail_en and "不符合记录的规则" in default.value.detail_zh
    with pytest.raises(GuidanceError) as named:
        valid_event_data(registry, catalogue.REVISIT_CANCELLED, {}, record_en="a revisit", record_zh="回访")
    assert "rules of a revisit" in named.value.detail_en and "不符合回访的规则" in named.value.detail_zh


def test_an_officer_is_carried_as_the_contract_spells_it() -> None:
    officer = Officer("张三", badge_no="32010012345")
    assert officer.as_data() == {"name": "张三", "badge_no": "32010012345", "officer_id": None}
    assert OfficerSchema().load(officer.as_data()) == {"name": "张三", "badge_no": "32010012345", "officer_id": None}
