"""Property-based run of schemathesis against the generated OpenAPI document, through WSGI.

Every operation gets generated requests, valid and invalid, with a write token of an exporter
who owns data (and, for the review operations, of an officer); no response may be a server
error or break the documented schema (status codes, content types, bodies, headers).

schemathesis' own pytest integration (``from_fixture``) does not work with pytest 9, so
the test drives each operation's hypothesis strategy itself.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from api_helpers import token_for
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlmodel import Session

from conftest import World
from registry.catalog.certification import Action

EXAMPLES = 12
# The document states types; business rules (lot code syntax, the product being one's own,
# known HS codes ...) live in the services and answer 422 to schema-valid input on purpose.
EXCLUDED = [positive_data_acceptance]
OFFICER_OPERATIONS = {"review_queue", "batches_decide", "targets_list", "targets_set"}


@pytest.fixture
def api_tokens(app: Flask, db: Session, world: World) -> dict[str, str]:
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    app.config["API_ADDRESS_RATE_LIMIT"] = "100000 per minute"
    return {"exporter": token_for(db, world.exporter_a, "write"),
            "officer": token_for(db, world.officer_ntb, "write")}


@pytest.fixture
def known_ids(db: Session, world: World) -> dict[str, list[int]]:
    """Objects for generated requests to hit besides random ids: a submitted batch (for the
    officer), a draft, an approved one (labels, scans) and another company's batch."""
    world.submit(world.batch_a, world.exporter_a)
    draft = world.batch(world.exporter_a, world.product_a, "A-LOT-2", "52.04")
    approved = world.batch(world.exporter_a, world.product_a, "A-LOT-3", "52.01")
    db.commit()
    world.submit(approved, world.exporter_a)
    world.decide(approved, world.officer_ntb, Action.APPROVE)
    product = world.product(world.exporter_a, "Kopi Tambora", "Tambora Coffee")
    db.commit()
    return {"batch_id": [world.batch_a.id, draft.id, approved.id, world.batch_b.id],
            "product_id": [world.product_a.id, product.id, world.product_b.id]}


def _with_known_ids(strategy: Any, known_ids: dict[str, list[int]]) -> Any:
    def replace(args: tuple[Any, dict[str, int]]) -> Any:
        case, ids = args
        case.path_parameters = {**(case.path_parameters or {}),
                                **{k: v for k, v in ids.items() if k in case.path_parameters}}
        return case

    return st.tuples(strategy, st.fixed_dictionaries(
        {name: st.sampled_from(ids) for name, ids in known_ids.items()})).map(replace)


def _property(operation: Any, mode: GenerationMode, known_ids: dict[str, list[int]] | None) -> (
    Any
):
    strategy = operation.as_strategy(generation_mode=mode)
    if known_ids is not None:
        strategy = _with_known_ids(strategy, known_ids)

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(excluded_checks=EXCLUDED)

    return run


def _schema(app: Flask, token: str) -> Any:
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": token}}}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def test_api_conforms_to_its_openapi_document(
    app: Flask, api_tokens: dict[str, str], known_ids: dict[str, list[int]]
) -> None:
    schemas = {role: _schema(app, token) for role, token in api_tokens.items()}
    failures: list[str] = []
    labels = [result.ok().label for result in schemas["exporter"].get_all_operations()]
    assert len(labels) >= 15
    for role, schema in schemas.items():
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.definition.raw["operationId"] in OFFICER_OPERATIONS) != (
                role == "officer"
            ):
                continue
            rounds = [(mode, None) for mode in GenerationMode]
            if "{" in operation.path:
                rounds += [(mode, known_ids) for mode in GenerationMode]
            for mode, ids in rounds:
                try:
                    _property(operation, mode, ids)()
                except (Exception, BaseExceptionGroup) as exc:  # collect all, then report
                    where = " on known ids" if ids else ""
                    failures.append(f"{operation.label} as {role} [{mode.value}{where}]: {exc}")
    assert not failures, "\n\n".join(failures)
