"""The version of fakecheck: defined here once (pyproject reads it), imported by the CLI and the report."""

__version__ = "0.2.0"
