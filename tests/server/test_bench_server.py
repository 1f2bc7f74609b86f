"""benchmarks/bench_server.py's client side (concurrent streams, isolation check) at a CI-sized count."""

from __future__ import annotations

import pytest


pytestmark = pytest.mark.server  # each test starts uvicorn on loopback

@pytest.fixture(scope="module")
def bench(load_benchmark):  # type: ignore[no-untyped-def]
    return load_benchmark("bench_server")


def test_four_concurrent_clients_each_get_only_their_own_runs(bench, serve, scripted) -> None:  # type: ignore[no-untyped-def]
    names = bench.CLIENT_NAMES[:4]
    for name in names:
        scripted.plans[bench.client_request(name)] = (
            f'1. lookup("{name}")\n2. post_message("$1", "running late")\n3. join()<END_OF_PLAN>'
        )
    server = serve()
    load = bench.throughput(server.url, clients=4, requests=2)
    assert load["problems"] == []
    assert load["requests"] == 8 and load["requests_per_min"] > 0
    assert 0 < load["latency_p50_s"] <= load["latency_p95_s"]


def test_the_isolation_check_catches_a_foreign_or_lost_run(bench) -> None:  # type: ignore[no-untyped-def]
    request = bench.client_request("Sid")
    own = [{"kind": "run_started", "request": request}, {"kind": "answer", "answer": "Texted Sid."}]
    assert bench.check_isolation("Sid", request, own, ["Nick"]) == []
    leaked = [own[0], {"kind": "action_started", "args": ["Nick"]}, own[1]]
    assert "mentions other clients' contacts ['Nick']" in bench.check_isolation("Sid", request, leaked, ["Nick"])[0]
    assert "a lost run" in bench.check_isolation("Sid", request, own[:1], ["Nick"])[0]


def test_percentiles_interpolate(bench) -> None:  # type: ignore[no-untyped-def]
    assert bench.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert bench.percentile([5.0], 0.95) == 5.0 and bench.percentile([], 0.5) == 0.0
