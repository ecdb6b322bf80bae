"""The requests the harness checks a variant with, and their exact answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from appgen.spec import AUDIT, CREATED_AT, CREATED_ID, OWNER, SIZES, router_resources


@dataclass(frozen=True)
class ProbeRequest:
    """An HTTP request and the exact answer every correct variant returns."""

    name: str
    method: str
    path: str
    status: int
    response: Any
    query: str = ""
    headers: tuple[tuple[str, str], ...] = (("accept", "application/json"),)
    body: Any = None

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form (for passing to a child process)."""
        return asdict(self)


def first_request(size: str) -> ProbeRequest:
    """The GET that every cold-start scenario sends: ``/r0000/items/1``."""
    resource = router_resources(SIZES[size], 0)[0]
    return ProbeRequest(
        name="get_first",
        method="GET",
        path=f"/r0000/{resource.plural}/1",
        status=200,
        response=resource.out_sample(1),
    )


def probe_requests(size: str, variant: str) -> list[ProbeRequest]:
    """Requests the correctness check sends, in order, with expected answers.

    ``floor`` only serves the first GET; every other variant must also answer
    a create (POST) on the first router and a get-by-id on the last router.
    """
    spec = SIZES[size]
    probes = [first_request(size)]
    if variant == "floor":
        return probes
    first = router_resources(spec, 0)[0]
    body = first.base_sample()
    probes.append(
        ProbeRequest(
            name="post_first",
            method="POST",
            path=f"/r0000/{first.plural}",
            status=201,
            response={
                **body,
                "id": CREATED_ID,
                "created_at": CREATED_AT,
                "owner": OWNER,
                "audit": AUDIT,
            },
            headers=(
                ("accept", "application/json"),
                ("content-type", "application/json"),
                ("authorization", "Bearer bench"),
            ),
            body=body,
        )
    )
    last_index = spec.routers - 1
    last = router_resources(spec, last_index)[0]
    probes.append(
        ProbeRequest(
            name="get_last",
            method="GET",
            path=f"/r{last_index:04d}/{last.plural}/7",
            status=200,
            response=last.out_sample(7),
        )
    )
    return probes


def expected_operation_count(size: str, variant: str) -> int:
    """How many operations a complete ``/openapi.json`` lists for the app."""
    if variant == "floor":
        return 0
    spec = SIZES[size]
    return spec.routers * spec.endpoints_per_router
