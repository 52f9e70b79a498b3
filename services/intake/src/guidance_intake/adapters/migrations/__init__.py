"""intake's schema history (Alembic): every table of intake's database, the kernel's and its own.

``guidance-intake migrate`` brings a database to the head (``guidance_shared.migrations``); every other
process refuses to start on a database that is not there. docs/operations.md ("Migrate") says how to
add a revision, and tests/test_migrations.py holds the head equal to ``METADATA``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData

from guidance_intake.adapters.archives import ARCHIVES_METADATA
from guidance_intake.adapters.read_model import READ_MODEL
from guidance_intake.adapters.serials import SERIALS_METADATA
from guidance_intake.adapters.subject_keys import SUBJECT_KEYS_METADATA
from guidance_shared.access_log import ACCESS_LOG_METADATA
from guidance_shared.migrations import KERNEL_METADATA
from guidance_shared.rechain import RECHAIN_METADATA

#: the directory of the history (``versions/`` holds the revisions); the service's ``ServiceSpec`` names it
LOCATION = Path(__file__).parent
#: the tables the head must equal: the kernel's and the service's (read models, projection, serials, keys, access log,
#: archive packages, the record of re-chaining the ledger)
METADATA: tuple[MetaData, ...] = (
    *KERNEL_METADATA,
    READ_MODEL,
    SERIALS_METADATA,
    SUBJECT_KEYS_METADATA,
    ACCESS_LOG_METADATA,
    ARCHIVES_METADATA,
    RECHAIN_METADATA,
)
