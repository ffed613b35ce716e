"""A fourth cloud written with the collector toolkit, exactly as docs/plugins.md walks through it.

Its "cloud" is a small JSON API (tests/plugins/mycloud_api.py) on 127.0.0.1; the plugin reaches
it through the ``--mycloud-endpoint`` option a private-cloud user would set.
"""
