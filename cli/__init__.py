"""Command-line client of Solve Complex Task: `python -m cli --help`."""
