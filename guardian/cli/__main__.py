"""`python -m guardian.cli`."""

import sys

from guardian.cli.entry import main

sys.exit(main())
