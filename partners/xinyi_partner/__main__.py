"""``python -m xinyi_partner`` is the ``xinyi-partner`` command."""

import sys

from xinyi_partner.cli import main

sys.exit(main())
