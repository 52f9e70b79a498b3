"""The purge of the crash test: ``python -m tests.support.purge_worker <database-url> <batch-size>``.

Purges published outbox rows (retention 0) batch after batch, forever, saying
``purging`` on stdout before each batch; the test SIGKILLs it at a random point.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from guidance_shared.db import make_engine
from guidance_shared.housekeeping import purge_outbox_batch


def main(url: str, batch_size: str) -> None:
    engine = make_engine(url)
    while True:
        print("purging", flush=True)
        purge_outbox_batch(engine, datetime.now(UTC) + timedelta(days=1), int(batch_size))


if __name__ == "__main__":
    main(*sys.argv[1:3])
