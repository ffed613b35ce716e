"""posture: a tiered cloud-security posture scanner.

The core package never imports a cloud SDK; providers live in their own
top-level packages under ``plugins/`` and load lazily through entry points.
"""

__version__ = "0.1.0"
