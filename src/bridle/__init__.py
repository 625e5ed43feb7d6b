"""bridle: one open coding harness for every model and every account.

The package root only carries the version; everything else is imported lazily by
the command that needs it, so `bridle --version` and `bridle --help` stay fast.
"""

__version__ = "0.1.0"
