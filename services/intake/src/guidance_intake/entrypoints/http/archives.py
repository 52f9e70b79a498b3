"""Archive packages (归档包) over HTTP: produce a department's year after DA/T 22, and download it.

Archivists (档案管理人员) and auditors produce and download the packages of their own departments;
another department's package reads as 404. One request renders every document of the year as PDF/A, about
a second each on a 2-core server, inside one web worker: it takes only as many items as render well within
the worker's timeout (``max_items``); a larger year is produced on the server with ``guidance-intake
archive``, and downloaded here all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Response, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from guidance_intake import handlers
from guidance_intake.adapters import archives
from guidance_intake.domain.commands import ProduceArchive
from guidance_intake.entrypoints.http import context
from guidance_shared.auth import ARCHIVIST, AUDITOR, ensure_department, requires
from guidance_shared.errors import NotFound
from guidance_shared.web import Blueprint, current_tx, idempotent
from guidance_shared.web.access_log import record_read
from guidance_shared.web.strict import StrictBody

#: Seconds of the worker's timeout one rendered item may take: a second per document, and room for the rest.
SECONDS_PER_ITEM = 1.5
ZIP_TYPE = "application/zip"
ARCHIVE_ROLES = (ARCHIVIST, AUDITOR)

archives_blp = Blueprint(
    "archives", __name__, url_prefix="/v1/archives", description="归档 archive packages after DA/T 22"
)


class ProduceArchiveRequest(StrictBody):
    department_id = fields.UUID(required=True, metadata={"description": "部门编号"})
    year = fields.Integer(
        required=True, validate=validate.Range(min=1949, max=9999), metadata={"description": "归档年度"}
    )


class ArchiveView(Schema):
    archive_id = fields.UUID(required=True, metadata={"description": "归档包编号"})
    department_id = fields.UUID(required=True)
    year = fields.Integer(required=True, metadata={"description": "归档年度"})
    item_count = fields.Integer(required=True, metadata={"description": "件数"})
    manifest_sha256 = fields.String(required=True, metadata={"description": "manifest.json 的 SHA-256"})
    package_sha256 = fields.String(required=True, metadata={"description": "ZIP 的 SHA-256"})
    produced_at = fields.String(required=True, metadata={"description": "生成时间 (RFC 3339)"})
    bytes = fields.Integer(required=True, metadata={"description": "ZIP 的字节数"})
    download = fields.String(required=True, metadata={"description": "下载地址"})
    warnings = fields.List(fields.String(), required=True, metadata={"description": "生成时的提示，如本机缺少中文字体"})


def max_items() -> int:
    """How many items one request may render: 20 with gunicorn's default 30 s (``GUIDANCE_WEB_TIMEOUT_S``)."""
    return max(1, int(context.settings().web_timeout_s / SECONDS_PER_ITEM))


@archives_blp.route("")
class ArchiveCollection(MethodView):
    @requires(*ARCHIVE_ROLES)
    @archives_blp.arguments(ProduceArchiveRequest)
    @idempotent
    @archives_blp.response(201, ArchiveView)
    def post(self, body: Mapping[str, Any]) -> Any:
        """Produce the archive package of a department's year (归档): every act issued and every case closed in it,
        each an item (件) with its 档号, its documents as PDF/A and its events, and a manifest with SHA-256 hashes.

        Recorded as ArchivePackageProduced. One request takes as many items as render within two thirds of the
        web worker's timeout (20 with the default 30 s); beyond, 413: produce it with `guidance-intake archive`.
        """
        cmd = ProduceArchive(department_id=str(body["department_id"]), year=int(body["year"]))
        ensure_department(cmd.department_id)
        produced = handlers.produce_archive(context.deps(), current_tx(), cmd, max_items=max_items())
        package = produced.package
        # The answer names no one: the read of persons' data is logged when the package is downloaded.
        download = url_for("archives.ArchiveItem", archive_id=package.archive_id)
        view = {**archives.describe(package), "download": download, "warnings": list(produced.warnings)}
        return view, 201, {"Location": download}


@archives_blp.route("/<uuid:archive_id>")
class ArchiveItem(MethodView):
    @requires(*ARCHIVE_ROLES)
    @archives_blp.doc(
        responses={
            "200": {
                "description": "归档包 as a ZIP: manifest.json, and per item document.pdf and events.json",
                "content": {ZIP_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    )
    def get(self, archive_id: object) -> Response:
        """Download an archive package: the very bytes whose SHA-256 its ArchivePackageProduced recorded."""
        missing = NotFound("archive package", "归档包", str(archive_id))
        with context.reading() as conn:
            package = archives.load(conn, str(archive_id))
        if package is None:
            raise missing
        ensure_department(package.department_id, not_found=missing)
        # One entry for the whole package: its documents and events name the persons among the counterparts.
        record_read("getArchive", record_id=package.archive_id, count=max(package.item_count, 1))
        name = f"{package.year}-{package.archive_id}.zip"
        response = Response(package.package, mimetype=ZIP_TYPE)
        response.headers["Content-Disposition"] = (
            f"attachment; filename=\"archive-{name}\"; filename*=UTF-8''{quote('归档包-' + name)}"
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["ETag"] = f'"{package.package_sha256}"'
        return response
