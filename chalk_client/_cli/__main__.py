"""``python -m chalk_client._cli``: the ``chalk-client`` command."""

import sys

from chalk_client._cli.main import main

sys.exit(main())
