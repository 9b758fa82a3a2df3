"""Validate SP-API bodies against Amazon's official Swagger 2.0 models in ../shared/sp-api-models.

Swagger 2.0 definitions are JSON Schema Draft 4 plus a few extra keywords (which jsonschema
ignores), so a definition becomes a schema by pointing `$ref` at it with the model's
`definitions` beside it. Validators are compiled once per (model, definition) and cached.

Each schema gets two validators: jsonschema-rs (compiled Rust, about 50 times faster) answers
"valid?", and only a body it finds invalid goes through jsonschema, whose messages are the
ones users and logs see (and which decides: a body jsonschema accepts is accepted). Both are
given the same format checks; tests hold them to the same answers over the models' examples
and mutations of them.

    from webapp.amazon import schemas
    schemas.validate_request_body("vendorOrders.json", "/vendor/orders/v1/acknowledgements",
                                  "post", body)            # raises SchemaError
    schemas.validate_response("vendorOrders.json", "/vendor/orders/v1/purchaseOrders",
                              "get", 200, payload)
    schemas.validate_definition("vendorOrders.json", "Order", order)
    schemas.validate_report_document("GET_VENDOR_SALES_REPORT", document)

Model files are read from `SPAPI_MODELS_DIR` (default: `<repo>/../shared/sp-api-models`).
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft4Validator, Draft7Validator, FormatChecker

_REPO_DIR = Path(__file__).resolve().parents[2]

# RFC 3339 date-time: Amazon's models say "ISO-8601" but mean this (a T and an offset or Z).
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

REPORT_SCHEMAS = {
    "GET_VENDOR_INVENTORY_REPORT": "reports/vendorInventoryReport.json",
    "GET_VENDOR_SALES_REPORT": "reports/vendorSalesReport.json",
}

_lock = threading.Lock()


class SchemaError(ValueError):
    """A body does not match its schema; `errors` lists every problem found."""

    def __init__(self, where: str, errors: list[str]):
        self.where = where
        self.errors = errors
        super().__init__(f"{where}: " + "; ".join(errors[:5]))


def models_dir() -> Path:
    """Return the folder holding Amazon's model files."""
    configured = os.environ.get("SPAPI_MODELS_DIR")
    if configured:
        return Path(configured)
    return _REPO_DIR.parent / "shared" / "sp-api-models"


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def _is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        try:
            datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            return False
        return True

    @checker.checks("date")
    def _is_date(value: object) -> bool:
        if not isinstance(value, str):
            return True
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10

    return checker


FORMAT_CHECKER = _format_checker()
# The same checks for jsonschema-rs, which calls them with strings only.
FAST_FORMATS = {name: FORMAT_CHECKER.checkers[name][0] for name in ("date-time", "date")}


@cache
def load_model(model_file: str) -> dict[str, Any]:
    """Load (once) one model file, e.g. "vendorOrders.json" or "reports/vendorSalesReport.json"."""
    with open(models_dir() / model_file, encoding="utf-8") as fh:
        return json.load(fh)


# Keywords that validate; the rest (descriptions, examples, x-amzn-*) only slow jsonschema down.
_VALIDATING = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "enum",
        "format",
        "maxLength",
        "minLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "multipleOf",
        "additionalProperties",
        "patternProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "dependencies",
    }
)


def _inline(node: Any, definitions: dict, stack: tuple[str, ...] = ()) -> Any:
    """Replace `#/definitions/X` refs by their (stripped) targets; cycles keep their $ref."""
    if isinstance(node, list):
        return [_inline(value, definitions, stack) for value in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        name = ref.rsplit("/", 1)[1]
        if name in stack:
            return {"$ref": ref}
        # Draft 4: keywords beside $ref are ignored, so the target alone is the schema.
        return _inline(definitions[name], definitions, (*stack, name))
    out = {}
    for key, value in node.items():
        if key not in _VALIDATING:
            continue
        if key == "enum":
            out[key] = value
        elif key in ("properties", "patternProperties"):
            out[key] = {name: _inline(sub, definitions, stack) for name, sub in value.items()}
        else:
            out[key] = _inline(value, definitions, stack)
    return out


@cache
def _validator(model_file: str, pointer: str) -> Validators:
    model = load_model(model_file)
    if "swagger" in model:
        # A Swagger model: the wanted definition with refs inlined (about 40% faster than
        # resolving them per instance); the definitions stay beside it for recursive refs.
        definitions = model["definitions"]
        schema = _inline({"$ref": pointer}, definitions)
        schema["definitions"] = definitions
        return Validators(_fast(jsonschema_rs.Draft4Validator, schema),
                          Draft4Validator(schema, format_checker=FORMAT_CHECKER))
    # A plain JSON Schema (the report documents): validate against the whole schema.
    return Validators(_fast(jsonschema_rs.Draft7Validator, model),
                      Draft7Validator(model, format_checker=FORMAT_CHECKER))


def _fast(validator_class, schema: dict):
    try:
        return validator_class(schema, formats=FAST_FORMATS, validate_formats=True,
                               ignore_unknown_formats=True)
    except (ValueError, jsonschema_rs.ValidationError):  # a schema it cannot compile
        return None


class Validators:
    """A schema's fast check (jsonschema-rs, may be None) and its full one (jsonschema)."""

    __slots__ = ("fast", "full")

    def __init__(self, fast, full) -> None:
        self.fast, self.full = fast, full

    def fast_says_valid(self, instance: Any) -> bool:
        """jsonschema-rs finds `instance` valid (False: invalid, a value it cannot read, or a
        Decimal anywhere in it: jsonschema-rs takes Decimal("5") as an integer, jsonschema
        does not, and amounts parsed from Amazon's JSON are Decimals)."""
        if self.fast is None or _holds_decimal(instance):
            return False
        try:
            return self.fast.is_valid(instance)
        except (TypeError, ValueError, OverflowError):  # a value it cannot read: ask jsonschema
            return False


def _holds_decimal(instance: Any) -> bool:
    stack = [instance]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, Decimal):
            return True
    return False


def _get_validator(model_file: str, pointer: str) -> Validators:
    with _lock:  # functools.cache is not atomic; compile each validator once
        return _validator(model_file, pointer)


def _check(validators: Validators, instance: Any, where: str) -> None:
    if validators.fast_says_valid(instance):
        return
    errors = sorted(validators.full.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        raise SchemaError(
            where,
            [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors],
        )


def definition_errors(model_file: str, definition_name: str, instance: Any) -> list[str]:
    """List what is wrong with `instance` as `#/definitions/<definition_name>` (empty if valid)."""
    try:
        validate_definition(model_file, definition_name, instance)
    except SchemaError as exc:
        return exc.errors
    return []


def validate_definition(model_file: str, definition_name: str, instance: Any) -> None:
    """Raise SchemaError unless `instance` matches `#/definitions/<definition_name>`."""
    if definition_name not in load_model(model_file).get("definitions", {}):
        raise KeyError(f"{model_file} has no definition {definition_name!r}")
    validator = _get_validator(model_file, f"#/definitions/{definition_name}")
    _check(validator, instance, f"{model_file}#{definition_name}")


def _operation(model_file: str, path: str, method: str) -> dict[str, Any]:
    try:
        return load_model(model_file)["paths"][path][method.lower()]
    except KeyError:
        raise KeyError(f"{model_file} has no operation {method.upper()} {path}") from None


def _schema_ref(schema: dict[str, Any], where: str) -> str:
    ref = schema.get("$ref")
    if not ref:
        raise KeyError(f"{where}: only $ref schemas are supported")
    return ref


def response_schema_ref(model_file: str, path: str, method: str, status: int | str) -> str | None:
    """Return the `#/definitions/...` pointer of a response, or None if it has no body."""
    responses = _operation(model_file, path, method)["responses"]
    response = responses.get(str(status))
    if response is None:
        raise KeyError(f"{model_file} {method.upper()} {path} declares no {status} response")
    schema = response.get("schema")
    return _schema_ref(schema, f"{path} {status}") if schema else None


def validate_response(
    model_file: str, path: str, method: str, status: int | str, instance: Any
) -> None:
    """Raise SchemaError unless `instance` matches the model's response schema for `status`.

    `path` is the model's path template, e.g.
    "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}"
    (not a concrete URL).
    """
    ref = response_schema_ref(model_file, path, method, status)
    if ref is None:
        return
    _check(_get_validator(model_file, ref), instance, f"{method.upper()} {path} {status}")


def validate_request_body(model_file: str, path: str, method: str, instance: Any) -> None:
    """Raise SchemaError unless `instance` matches the body parameter of the operation."""
    for parameter in _operation(model_file, path, method).get("parameters", []):
        if parameter.get("in") == "body":
            ref = _schema_ref(parameter["schema"], f"{path} body")
            _check(_get_validator(model_file, ref), instance, f"{method.upper()} {path} body")
            return
    raise KeyError(f"{model_file} {method.upper()} {path} takes no body")


def validate_report_document(report_type: str, document: Any) -> None:
    """Raise SchemaError unless `document` matches the report schema of `report_type`."""
    model_file = REPORT_SCHEMAS[report_type]
    _check(_get_validator(model_file, "#"), document, report_type)


def sandbox_examples(model_file: str):
    """Yield (path, method, status, request, response) of each `x-amzn-api-sandbox` example."""
    for path, operations in load_model(model_file)["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                for example in (response.get("x-amzn-api-sandbox") or {}).get("static", []):
                    yield path, method, status, example.get("request", {}), example.get("response")
