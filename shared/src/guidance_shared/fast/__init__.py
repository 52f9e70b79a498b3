"""The kernel's speed code, kept apart from the slow, obvious path it stands in for.

Every module here does what a plainer piece of the kernel does, only cheaper, and each is held
equal to that piece by a test:

==============  ===============================================  ==========================================
module          stands in for                                    held equal by
==============  ===============================================  ==========================================
``loaders``     ``EventRegistry.load_typed`` (marshmallow)       ``tests/shared/test_fastload.py``
``envelopes``   ``Envelope._from_record_sdk`` (CloudEvents SDK)  ``tests/kernel/test_envelope.py``
``consumer``    ``ConsumerRunner``'s careful path                ``tests/kernel/test_consumer_runner.py``
``bulk``        ``conn.execute(statement, rows)``                ``tests/kernel/test_bulk_statements.py``
``wal``         SQLite's own checkpoints inside commits          ``tests/kernel/test_wal_checkpointer.py``
==============  ===============================================  ==========================================

The rule they share: a fast piece never judges. Whatever it does not recognise exactly (an odd
header, invalid data, a poison event, a driver it does not know) goes to the slow path, so what is
accepted, rejected, parked or dead-lettered, and with which message, is decided there.

What they buy is measured by ``bench/run`` (README, "Benchmarks"): on its projection replay of
100,000 ``GuidanceIssued`` events the consumer runner applies 2,632 events/s without them
(``bench/results/kernel-2026-11-25-perf-before.json``) and 7,729/s with them and a cheaper
redaction (``bench/results/kernel-2026-11-25-session3.json``), on the same 2-core machine. Each
module's docstring gives its own share, per event; ``python -m bench.consumer_paths`` runs the
consumer runner's careful path and its plain path on the same records, no broker needed.
"""
