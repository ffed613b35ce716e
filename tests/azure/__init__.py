"""Azure provider tests against a fake ARM server."""
