"""``guidance``: operator commands that belong to no single service.

guidance schemas export DIR     write one JSON Schema per event type, asyncapi.json and asyncapi.yaml
guidance schemas asyncapi       print the AsyncAPI document as YAML (docs/asyncapi.yaml is this)
guidance topics create ...      create the event and dead-letter topics on Kafka
guidance kafka start|stop|status|fetch --dir DIR   the project's own single-node broker
guidance auth keys|mint ...     development key pair and tokens (see guidance auth --help)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from guidance_shared.auth import main as auth_main
from guidance_shared.events import asyncapi_document, default_registry, export_json_schemas
from guidance_shared.events.asyncapi import asyncapi_yaml
from guidance_shared.kafka_local import main as kafka_main
from guidance_shared.topics import main as topics_main


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    group, rest = args[0], args[1:]
    if group == "schemas" and rest[:1] == ["export"] and len(rest) == 2:
        return _export_schemas(Path(rest[1]))
    if group == "schemas" and rest == ["asyncapi"]:
        sys.stdout.write(asyncapi_yaml(asyncapi_document(default_registry())))
        return 0
    if group == "topics":
        return topics_main(rest)
    if group == "kafka":
        return kafka_main(rest)
    if group == "auth":
        return auth_main(rest)
    print(__doc__, file=sys.stderr)
    return 2


def _export_schemas(out_dir: Path) -> int:
    registry = default_registry()
    written = export_json_schemas(registry, out_dir)
    document = asyncapi_document(registry)
    (out_dir / "asyncapi.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out_dir / "asyncapi.yaml").write_text(asyncapi_yaml(document), encoding="utf-8")
    print(f"wrote {len(written)} JSON Schemas, asyncapi.json and asyncapi.yaml to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
