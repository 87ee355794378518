"""`python -m estateops` runs the command line."""

from estateops.cli import app

app()
