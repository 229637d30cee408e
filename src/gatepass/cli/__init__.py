"""The ``gatepass`` command line (entry point :func:`gatepass.cli.main.main`); see docs/cli.md."""
