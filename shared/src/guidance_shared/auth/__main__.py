"""``python -m guidance_shared.auth keys|mint ...``."""

import sys

from guidance_shared.auth.cli import main

sys.exit(main())
