"""The shared fake-API base (tests/loopback.py): what the cloud fakes rely on, through a real HTTP client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.loopback import LoopbackServer, Reply, Request, page, private_ca

PAGES = [{"items": [1], "nextPageToken": "t1"}, {"items": [2], "nextPageToken": "t2"}, {"items": [3]}]


class Pages(LoopbackServer):
    """A minimal API: ``/things`` pages with nextPageToken, anything else 404; counted and faultable."""

    def route(self, req: Request) -> Reply:
        injected = self.injected(req)
        if injected is not None:
            return injected
        if req.path != "/things":
            return Reply(404, {"error": "no route"})
        body = page(PAGES, req.param("pageToken"))
        return Reply(400, {"error": "bad token"}) if body is None else Reply(200, body)


def get(url: str, **kwargs: Any) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10, **kwargs) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def fake() -> Any:
    with Pages() as server:
        yield server


def test_pages_follow_the_token_chain_and_an_unknown_token_is_refused(fake: Pages) -> None:
    assert get(f"{fake.url}/things")[1]["items"] == [1]
    assert get(f"{fake.url}/things?pageToken=t2")[1]["items"] == [3]
    assert get(f"{fake.url}/things?pageToken=nope")[0] == 400
    assert [(r.param("pageToken"), r.status) for r in fake.requests_to("/things")] == [
        (None, 200), ("t2", 200), ("nope", 400)]


def test_a_counted_fault_is_used_up_then_the_route_answers_again(fake: Pages) -> None:
    with fake.fault("/things", Reply(429, {"error": "slow down"}), method="GET", times=2):
        statuses = [get(f"{fake.url}/things")[0] for _ in range(3)]
    assert statuses == [429, 429, 200]
    assert [r.status for r in fake.requests] == [429, 429, 200]


def test_a_subtree_fault_covers_every_path_below_and_ends_with_its_block(fake: Pages) -> None:
    with fake.fault("tenant-a", Reply(403, {"error": "denied"}), subtree=True):
        assert get(f"{fake.url}/tenant-a/v1.0/users")[0] == 403
        assert get(f"{fake.url}/tenant-b/v1.0/users")[0] == 404
    assert get(f"{fake.url}/tenant-a/v1.0/users")[0] == 404


def test_reset_forgets_the_log_and_rewinds_sequences_but_keeps_faults(fake: Pages) -> None:
    assert (fake.turn("k"), fake.turn("k")) == (0, 1)
    with fake.fault("/things", Reply(503, {})):
        get(f"{fake.url}/things")
        fake.reset()
        assert fake.requests == [] and fake.turn("k") == 0
        assert get(f"{fake.url}/things")[0] == 503


def test_tls_with_a_private_ca_is_trusted_by_a_client_given_that_ca(tmp_path: Path) -> None:
    import ssl

    ca = private_ca(tmp_path)
    with Pages(tls=ca.server_context()) as server:
        assert server.url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=ca.ca)
        assert get(f"{server.url}/things", context=trusting)[0] == 200
        with pytest.raises(urllib.error.URLError):
            get(f"{server.url}/things", context=ssl.create_default_context())
