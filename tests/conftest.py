"""Shared fixtures: the example spec and one moto server per test session.

Every boto3 call in the tests goes to moto on 127.0.0.1; the environment below makes
sure no real credentials or profile can be picked up by accident.

- ``spec``: the example organization, ``stacks/Pulumi.org.yaml`` (session-scoped).
- ``moto_server``: the endpoint URL of a ``ThreadedMotoServer`` started once per session
  (in this process, so ``sandbox.organization`` can give accounts the spec's ids).
- ``moto_endpoint``: the same server with its state reset, for a test (or a module
  fixture) that needs an empty AWS.
"""

from __future__ import annotations

import copy
import logging
import os
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from core.spec import Spec, ivs_fields, read_yaml
from governance.spec import load_spec
from sandbox import moto_fleet

# The stand-in answers the fleet reads moto lacks, in-process and in every moto server
# the tests start (before any starts).
moto_fleet.install()

for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

# Speed is measured by the benchmarks, not by unit tests: a loaded CI machine must not
# turn a slow example into a failure.
settings.register_profile("ivs", deadline=None)
settings.load_profile("ivs")

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SPEC = REPO / "stacks" / "Pulumi.org.yaml"


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec(EXAMPLE_SPEC)


@pytest.fixture(scope="session")
def _example_fields() -> dict[str, Any]:
    return ivs_fields(read_yaml(EXAMPLE_SPEC), str(EXAMPLE_SPEC))


@pytest.fixture
def spec_fields(_example_fields: dict[str, Any]) -> dict[str, Any]:
    """A private deep copy of the example spec's ``ivs`` fields, to change in a test.

    Build a spec from it with ``governance.spec.spec_from_mapping(fields, "test.yaml",
    base_dir=str(EXAMPLE_SPEC.parent))``.
    """
    return copy.deepcopy(_example_fields)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset_moto(endpoint: str) -> None:
    """Empty every moto backend behind ``endpoint``."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    # generous: a reset of a server holding a large world takes long on a loaded machine
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    reset_moto(moto_server)
    return moto_server


@pytest.fixture(scope="session")
def moto_reset(moto_server: str) -> Callable[[], str]:
    """A callable that empties the session's moto server and returns its URL.

    For module- or class-scoped fixtures, which cannot use ``moto_endpoint``. moto's
    state is global to the process: under ``pytest -n`` a test of another module may run
    (and reset) between two tests of a module, so state kept across tests is fragile.
    """

    def reset() -> str:
        reset_moto(moto_server)
        return moto_server

    return reset


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    """One ``distributed.LocalCluster`` for the session: 2 worker processes of 4 threads
    on 127.0.0.1 (the tests pass its ``scheduler_address`` as ``--scheduler``). The
    scheduler runs in this process, so a test may change how often it retries a task."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=4,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster
    finally:
        cluster.close()
