"""`python -m pinnc ...`: the `pinnc` command (`cli.main`)."""
import sys

from .cli import main

sys.exit(main())
