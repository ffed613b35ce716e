from tests.core.conftest import default_world, fake_cloud  # noqa: F401 - shared fixtures
