"""Archive packages at rest: what a year holds to archive, the package as a ZIP, and the packages produced.

A produced package is kept whole (its ZIP) in ``archive_packages`` so that ``GET /v1/archives/{id}`` serves
the very bytes whose hashes ``ArchivePackageProduced`` recorded, on whichever instance the download lands.
These rows are not a read model: an event holds the hashes, not the bytes, so nothing could refold them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    select,
)

from guidance_intake.adapters.read_model import case_records, guidance_records
from guidance_intake.domain.archive import PackageFile

ARCHIVES_METADATA = MetaData()

archive_packages = Table(
    "archive_packages",
    ARCHIVES_METADATA,
    Column("archive_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("package_sha256", String(64), nullable=False),
    Column("produced_at", String(40), nullable=False),  # ISO 8601 with its offset, as the event has it
    Column("package", LargeBinary, nullable=False),
)

# Fixed times inside the ZIP: the same files give the same bytes, whenever they are packed.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def guidance_ids_issued(conn: Connection, department_id: str, year: int) -> list[str]:
    """The department's acts issued in ``year`` (Beijing days), withdrawn ones included: they were issued."""
    c = guidance_records.c
    query = select(c.guidance_id).where(
        c.department_id == department_id, c.issued_on >= date(year, 1, 1), c.issued_on <= date(year, 12, 31)
    )
    return [row.guidance_id for row in conn.execute(query.order_by(c.issued_on, c.doc_no))]


def case_ids_closed(conn: Connection, department_id: str, year: int) -> list[str]:
    """The department's cases closed in ``year``: a case is archived once it is closed (结案后归档)."""
    c = case_records.c
    query = select(c.case_id).where(
        c.department_id == department_id,
        c.status == "closed",
        c.closed_on >= date(year, 1, 1),
        c.closed_on <= date(year, 12, 31),
    )
    return [row.case_id for row in conn.execute(query.order_by(c.closed_on, c.case_no))]


def zipped(files: Sequence[PackageFile]) -> bytes:
    """The files as one ZIP, in the given order, with fixed times; PDFs are stored, the rest deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in files:
            info = zipfile.ZipInfo(file.path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if file.path.endswith(".pdf") else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, file.content)
    return buffer.getvalue()


@dataclass(frozen=True)
class StoredPackage:
    archive_id: str
    department_id: str
    year: int
    item_count: int
    manifest_sha256: str
    package_sha256: str
    produced_at: str
    package: bytes


def save(conn: Connection, package: StoredPackage) -> None:
    conn.execute(insert(archive_packages).values(**package.__dict__))


def load(conn: Connection, archive_id: str) -> StoredPackage | None:
    row = conn.execute(select(archive_packages).where(archive_packages.c.archive_id == archive_id)).first()
    return StoredPackage(**row._asdict()) if row is not None else None


def describe(package: StoredPackage) -> Mapping[str, object]:
    """The package as the API describes it (everything but the bytes)."""
    return {
        "archive_id": package.archive_id,
        "department_id": package.department_id,
        "year": package.year,
        "item_count": package.item_count,
        "manifest_sha256": package.manifest_sha256,
        "package_sha256": package.package_sha256,
        "produced_at": package.produced_at,
        "bytes": len(package.package),
    }
