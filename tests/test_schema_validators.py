"""The two validators of every Amazon schema give the same answer (webapp/amazon/schemas.py).

jsonschema-rs answers "valid?" first and a body it finds valid is never shown to jsonschema,
so any body it accepts and jsonschema refuses would slip through unchecked. Every example in
Amazon's models, and every one-field mutation of each (a key dropped, a value replaced by each
JSON type, by dates well and badly formed, by numbers out of range), is put to both.
"""

from collections import Counter
from decimal import Decimal

import pytest

from webapp.amazon import schemas

pytestmark = pytest.mark.backend_independent

MODELS = ["vendorOrders.json", "vendorShipments.json", "vendorInvoices.json",
          "vendorTransactionStatus.json"]
REPLACEMENTS = ["x", "", 0, -1, 7, 1.5, 1.0, Decimal("2.50"), Decimal("5"), Decimal("5.0"),
                Decimal("1E+2"), True, None, [], {}, ["x"],
                "2026-01-02", "2026-01-02T03:04:05Z", "2026-13-02T03:04:05Z", "2026-01-02T03:04",
                "02/01/2026", "US", "us", "USA", 10**20]


def _mutations(node):
    """Yield copies of `node` with one key dropped or one value replaced, anywhere in it."""
    yield node
    if isinstance(node, dict):
        for key, value in node.items():
            yield {k: v for k, v in node.items() if k != key}
            for changed in _mutations_of_value(value):
                yield {**node, key: changed}
    elif isinstance(node, list):
        for i, value in enumerate(node[:2]):  # later items are checked by the same subschema
            yield node[:i] + node[i + 1:]
            for changed in _mutations_of_value(value):
                yield [*node[:i], changed, *node[i + 1:]]


def _mutations_of_value(value):
    yield from REPLACEMENTS
    if isinstance(value, dict | list):
        yield from list(_mutations(value))[1:]


def _cases(model, per_schema=2):
    """(schema pointer, example) of the model's examples, the first two of each schema."""
    seen = Counter()
    for path, method, status, request, response in schemas.sandbox_examples(model):
        found = [(schemas.response_schema_ref(model, path, method, status), response)]
        body = (request.get("parameters") or {}).get("body") or {}
        if "value" in body:
            found += [(parameter["schema"]["$ref"], body["value"]) for parameter
                      in schemas._operation(model, path, method).get("parameters", [])
                      if parameter.get("in") == "body"]
        for ref, example in found:
            if ref and example is not None and seen[ref] < per_schema:
                seen[ref] += 1
                yield ref, example


@pytest.mark.parametrize("model", MODELS)
def test_fast_and_full_validators_agree_on_examples_and_their_mutations(model):
    compared = disagreements = 0
    for ref, example in _cases(model):
        validators = schemas._get_validator(model, ref)
        assert validators.fast is not None, ref
        for instance in _mutations(example):
            fast, full = validators.fast_says_valid(instance), validators.full.is_valid(instance)
            compared += 1
            assert not (fast and not full), (ref, instance)  # never accept what jsonschema refuses
            # And not slow either: the fast path answers every valid body without a Decimal
            # (one with a Decimal always goes to jsonschema).
            disagreements += fast != full and not schemas._holds_decimal(instance)
    assert compared > 0 or model == "vendorTransactionStatus.json"  # it ships no examples
    assert disagreements == 0


def test_report_documents_agree_too():
    for report_type, model in schemas.REPORT_SCHEMAS.items():
        validators = schemas._get_validator(model, "#")
        assert validators.fast is not None
        for example in schemas.load_model(model)["examples"][:2]:
            for instance in _mutations(example):
                fast, full = validators.fast_says_valid(instance), validators.full.is_valid(
                    instance)
                assert fast == full or (not fast and schemas._holds_decimal(instance)), (
                    report_type, instance)


def test_a_decimal_integer_is_refused_as_jsonschema_refuses_it():
    # jsonschema-rs alone would take Decimal("5") for Draft 4's and Decimal("5.0") for
    # Draft 7's "integer"; jsonschema takes neither.
    validators = schemas._get_validator("vendorOrders.json", "#/definitions/ItemQuantity")
    for amount in (Decimal("5"), Decimal("5.0")):
        with pytest.raises(schemas.SchemaError):
            schemas._check(validators, {"amount": amount, "unitOfMeasure": "Eaches"}, "q")
    schemas._check(validators, {"amount": 5, "unitOfMeasure": "Eaches"}, "q")


def test_an_invalid_body_still_gets_jsonschemas_messages():
    with pytest.raises(schemas.SchemaError) as caught:
        schemas.validate_definition("vendorTransactionStatus.json", "Transaction",
                                    {"transactionId": "t-1", "status": "Done"})
    assert caught.value.errors == ["status: 'Done' is not one of ['Failure', 'Processing', "
                                   "'Success']"]
