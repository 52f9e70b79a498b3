"""POST/GET /v1/archives and ``guidance-intake archive``: a department's year as a DA/T 22 archive package.

The package is opened as an archivist would: every file against the manifest's SHA-256, the manifest and the ZIP
against the hashes ArchivePackageProduced recorded, and each PDF's PDF/A claim (XMP pdfaid, the output intent)
with every font embedded, a CJK one among them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from tests.support import verapdf
from tests.support.events import assert_events_match_contracts
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime

from guidance_intake import handlers
from guidance_intake.adapters import pdf
from guidance_intake.bootstrap import SPEC, create_app
from guidance_intake.domain.commands import ProduceArchive
from guidance_intake.domain.departments import DepartmentRegistry
from guidance_intake.entrypoints import cli
from guidance_shared import catalogue
from guidance_shared.db import make_engine
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import DEPARTMENT_ID as MARKET
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

EMERGENCY = "077493a6-c269-5ad9-9cc1-26c4417acc51"  # 某县应急管理局, another county department
IntakeApi = Any  # the conftest's ``api`` fixture

ARCHIVE_ROLES = ("archivist",)


@pytest.fixture
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """The conftest's runtime; a test may ask (``indirect``) for PostgreSQL, or for settings of its own."""
    database, env = getattr(request, "param", ("sqlite", {}))
    engine = {"engine": make_engine(request.getfixturevalue("postgres_db_url"))} if database == "postgresql" else {}
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    settings = Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp_path), **env})
    runtime = migrated_runtime(SPEC, settings, transport=transport, **engine)
    runtime.provision()
    yield runtime
    assert_read_models_refold(runtime, allow_empty=True)
    assert_events_match_contracts(runtime)
    runtime.engine.dispose()
    transport.close()


def produce(api: IntakeApi, year: int = 2025, roles: tuple[str, ...] = ARCHIVE_ROLES, **kw: Any) -> Any:
    return api.post("/v1/archives", {"department_id": kw.get("department_id", MARKET), "year": year}, roles, **kw)


def a_year_of_records(api: IntakeApi) -> dict[str, Any]:
    """Two acts of 2025 (kept ten and thirty years), one closed major case, one case still open (not archived)."""
    warning = api.issue("minor_issue_warning")
    admonition = api.issue("supervisory_admonition")
    major = api.open_case(major=True)
    case = f"/v1/cases/{major['case_id']}"
    api.command(f"{case}/legal-review", api.review_body())
    api.command(f"{case}/decision", api.decision_body())  # decided 2025-03-20, as the example
    api.command(f"{case}/closure", {"outcome": "executed", "closed_at": "2025-04-15T16:00:00+08:00"})
    api.open_case()
    return {"warning": warning, "admonition": admonition, "major": major}


def font_dicts(reader: PdfReader) -> list[DictionaryObject]:
    """Every font of every page, with the CID fonts under a Type0 font."""
    found: list[DictionaryObject] = []
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        for ref in resources.get("/Font", DictionaryObject()).get_object().values():
            font = ref.get_object()
            found.append(font)
            found += [d.get_object() for d in font.get("/DescendantFonts", [])]
    return found


def assert_pdfa(content: bytes) -> PdfReader:
    """The PDF claims PDF/A-2u in its XMP, carries an sRGB output intent, and embeds every font it uses."""
    reader = PdfReader(io.BytesIO(content))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfaid:part>2</pdfaid:part>" in xmp or 'pdfaid:part="2"' in xmp, xmp
    assert "<pdfaid:conformance>U</pdfaid:conformance>" in xmp or 'pdfaid:conformance="U"' in xmp, xmp
    intents = reader.trailer["/Root"]["/OutputIntents"]
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3 and profile.get_data()[36:40] == b"acsp"  # an RGB ICC profile (its signature)
    fonts = font_dicts(reader)
    assert fonts
    for font in fonts:
        if font["/Subtype"] == "/Type0":
            assert "/ToUnicode" in font, font  # the "u" of PDF/A-2u: every glyph maps to Unicode
            continue
        descriptor = font["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]
    names = " ".join(str(f["/BaseFont"]) for f in fonts)
    assert "CJK" in names, names  # Noto Serif/Sans CJK SC, which the project installs
    return reader


def open_package(content: bytes) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    package = zipfile.ZipFile(io.BytesIO(content))
    manifest = json.loads(package.read("manifest.json"))
    listed = {f["path"]: f for item in manifest["items"] for f in item["files"]}
    assert set(package.namelist()) == {"manifest.json", *listed}
    for path, entry in listed.items():
        data = package.read(path)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"], path
    return package, manifest


@pytest.mark.parametrize(
    "runtime",
    [("sqlite", {}), pytest.param(("postgresql", {}), marks=pytest.mark.postgres)],
    ids=["sqlite", "postgresql"],
    indirect=True,
)
def test_a_year_is_packaged_item_by_item_with_hashes_pdfa_documents_and_events(
    api: IntakeApi, runtime: Runtime, tmp_path: Path
) -> None:
    records = a_year_of_records(api)

    response = produce(api)
    assert response.status_code == 201, response.get_json()
    produced = response.get_json()
    assert produced["item_count"] == 3 and produced["warnings"] == []
    download = api.get(produced["download"], ARCHIVE_ROLES)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    content = download.get_data()
    assert hashlib.sha256(content).hexdigest() == produced["package_sha256"]

    package, manifest = open_package(content)
    assert hashlib.sha256(package.read("manifest.json")).hexdigest() == produced["manifest_sha256"]
    assert manifest["fonds_code"] == "J012" and manifest["year"] == 2025 and manifest["standard"] == "DA/T 22-2015"
    by_record = {item["record_id"]: item for item in manifest["items"]}
    # 档号 全宗号-年度-保管期限-问题-件号: the major case kept forever, the admonition thirty years, the warning ten.
    major = by_record[records["major"]["case_id"]]
    assert major["archival_no"] == "J012-2025-Y-AJ-0001" and major["retention_zh"] == "永久"
    admonition = by_record[records["admonition"]["guidance_id"]]
    assert admonition["archival_no"] == "J012-2025-D30-ZD-0001"
    warning = by_record[records["warning"]["guidance_id"]]
    assert warning["archival_no"] == "J012-2025-D10-ZD-0001" and warning["date"] == "20250305"
    assert warning["responsible"] == "某县市场监督管理局"
    assert (
        warning["title"] == f"某县市场监督管理局行政指导书（轻微问题警示）（{records['warning']['details']['doc_no']}）"
    )

    # Each item's events, as the store holds them, hash links included.
    events = json.loads(package.read(f"{major['archival_no']}/events.json"))
    assert [e["type"] for e in events] == [
        catalogue.CASE_OPENED,
        catalogue.CASE_LEGAL_REVIEWED,
        catalogue.CASE_DECIDED,
        catalogue.CASE_CLOSED,
    ]
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(events))

    reader = assert_pdfa(package.read(f"{warning['archival_no']}/document.pdf"))
    if runtime.engine.dialect.name == "sqlite":  # the database changes nothing in a PDF: one validation is enough
        # And the validator archives use says so too (its jars from Maven Central, run offline).
        document = tmp_path / "document.pdf"
        document.write_bytes(package.read(f"{warning['archival_no']}/document.pdf"))
        assert verapdf.validate(document) == f"PASS {document} 2u"
    text = "".join(page.extract_text() for page in reader.pages)
    assert "行政指导书（轻微问题警示）" in text and "受送达人签名" in text
    sheet = assert_pdfa(package.read(f"{major['archival_no']}/document.pdf"))
    assert "J012-2025-Y-AJ-0001" in sheet.pages[0].extract_text()

    # The ledger shows what was archived when, and nothing about whom.
    recorded = [e for e in runtime.store.read_all() if e.type == catalogue.ARCHIVE_PACKAGE_PRODUCED]  # type: ignore[union-attr]
    assert len(recorded) == 1
    data = recorded[0].data
    assert data["manifest_sha256"] == produced["manifest_sha256"]
    assert data["package_sha256"] == produced["package_sha256"]
    assert (data["year"], data["item_count"], data["fonds_code"]) == (2025, 3, "J012")
    assert "赵建国" not in json.dumps(data, ensure_ascii=False)


def test_only_archivists_and_auditors_of_the_department_produce_and_download(api: IntakeApi) -> None:
    api.issue()
    api.problem(produce(api, roles=("officer", "supervisor", "admin")), 403)
    api.problem(produce(api, department=EMERGENCY), 403, "forbidden-department")
    produced = produce(api, roles=("auditor",)).get_json()
    api.problem(api.get(produced["download"], ("archivist",), department=EMERGENCY), 404)
    api.problem(api.get(produced["download"], ("officer",)), 403)
    assert api.get(produced["download"], ("auditor",)).status_code == 200


def test_a_year_to_come_a_department_without_fonds_code_and_too_many_items_are_refused(
    api: IntakeApi, runtime: Runtime
) -> None:
    api.problem(produce(api, year=2999), 422, "archive-year-invalid", "year")
    source = (Path(cli.__file__).parents[1] / "config" / "departments.yaml").read_text(encoding="utf-8")
    unassigned = DepartmentRegistry.from_mapping(yaml.safe_load(source.replace("    fonds_code: J012\n", "")))
    deps = dataclasses.replace(runtime.deps, departments=unassigned)
    with pytest.raises(GuidanceError) as refused, runtime.store.transaction() as conn:  # type: ignore[union-attr]
        handlers.produce_archive(deps, conn, ProduceArchive(MARKET, 2025))
    assert refused.value.code == "fonds-code-missing" and refused.value.status == 422
    api.issue()
    with pytest.raises(GuidanceError) as refused, runtime.store.transaction() as conn:  # type: ignore[union-attr]
        handlers.produce_archive(runtime.deps, conn, ProduceArchive(MARKET, 2025), max_items=0)
    assert refused.value.code == "archive-too-large" and refused.value.status == 413


@pytest.mark.parametrize("runtime", [("sqlite", {"GUIDANCE_WEB_TIMEOUT_S": "2"})], ids=["2 s"], indirect=True)
def test_one_request_renders_only_what_fits_the_web_workers_timeout(api: IntakeApi) -> None:
    api.issue()
    api.issue("development_advice")  # two items: more than a 2 s worker may render (1.5 s an item)
    problem = api.problem(produce(api), 413, "archive-too-large")
    assert "guidance-intake archive" in problem["detail"]


def test_without_a_cjk_font_the_documents_say_so_and_so_does_the_answer(
    api: IntakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain Debian server's fonts: DejaVu, which fontconfig itself depends on, and no CJK font.
    latin = tmp_path / "fonts.conf"
    latin.write_text(
        '<?xml version="1.0"?><fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir>'
        f"<cachedir>{tmp_path / 'fontcache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(latin))
    assert pdf.cjk_fonts() == ()
    api.issue()
    produced = produce(api).get_json()
    assert produced["warnings"] == [pdf.FONT_MISSING_ZH]
    package, manifest = open_package(api.get(produced["download"], ARCHIVE_ROLES).get_data())
    assert manifest["notes"] == [pdf.FONT_MISSING_ZH] and manifest["rendering"]["cjk_fonts"] == []
    document = PdfReader(io.BytesIO(package.read(f"{manifest['items'][0]['archival_no']}/document.pdf")))
    # The Latin font has no Chinese glyphs: the notice's Latin part is what any reader of the copy can read.
    text = " ".join(document.pages[0].extract_text().replace("\x00", "").split())
    assert "fonts-noto-cjk" in text and "No CJK font was installed" in text


def test_the_command_writes_the_package_and_records_it(
    api: IntakeApi,
    runtime: Runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api.issue()
    for name, value in runtime.settings.env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    assert cli.main(SPEC, create_app, ["archive", "--department", MARKET, "--year", "2025", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # after the requests' log lines
    content = Path(summary["path"]).read_bytes()
    assert hashlib.sha256(content).hexdigest() == summary["package_sha256"] and summary["item_count"] == 1
    _, manifest = open_package(content)
    unpacked = Path(summary["path"]).with_suffix("")
    assert json.loads((unpacked / "manifest.json").read_text(encoding="utf-8")) == manifest
    assert api.get(f"/v1/archives/{summary['archive_id']}", ARCHIVE_ROLES).get_data() == content
    assert cli.main(SPEC, create_app, ["archive", "--department", MARKET, "--year", "2999", "--out", str(out)]) == 1
