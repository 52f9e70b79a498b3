"""Compiled consumer-side loading: ``EventRegistry.load_typed`` for one event type, ~7x cheaper.

What it buys: loading a ``GuidanceIssued`` through marshmallow costs ~140 µs (plus ~18 µs for
``json.loads`` of the value), most of a projection replay's time; the compiled loader reads and
validates it in ~20 µs. Measured by ``bench/run``'s replay phase (README, "Benchmarks";
``bench/results/kernel-2026-11-25-session3.json``). Held equal to marshmallow by
``tests/shared/test_fastload.py``: on every canonical example, on generated mutations of them, and
rule by rule, a result from the compiled loader equals ``schema.load(json.loads(value))``.

Once per event type, it compiles a loader that gives the *same* result from the record's raw bytes:

- msgspec decodes the JSON straight into ``TypedDict`` shapes generated from the marshmallow
  schema, checking in C what maps one to one: JSON types, required keys, null where allowed,
  ``Length``, ``OneOf``, ``Range`` and anchored ``Regexp`` validators; unknown fields are dropped
  as ``unknown = EXCLUDE`` does;
- a small Python pass then does what marshmallow does after that, with marshmallow's own pieces:
  dates and times through the same ``fromisoformat`` marshmallow calls (and the same awareness
  check), defaults from each field's ``load_default``, the field validators msgspec cannot express
  (called as they are), every ``@validates_schema`` hook of every schema (called as marshmallow
  calls them), and the fields this compiler does not model (``Url``, ``Decimal``, ``Dict``...)
  through the field's own ``deserialize`` (msgspec hands them the JSON value as ``json.loads``
  would: the same ints, however large, the same correctly rounded floats).

It is a fast path, never a judge: whenever anything fails (invalid or unusual JSON, a failed
check, a hook raising), ``load`` returns None and the caller uses ``EventRegistry.load_typed``, so
what is rejected, and with which messages, is marshmallow's decision. A schema using anything
outside the modelled subset (load hooks, ``pass_original``, ``@validates``, ``only``/``exclude``,
``many``, another ``unknown`` policy, unmodelled field classes) is not compiled at all.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict, Union

import msgspec
from marshmallow import EXCLUDE, Schema, fields, validate
from marshmallow.utils import missing

from guidance_shared.events.common import NullUnless, OneOfWhen, Payload, RequiredWhen

VALIDATES_SCHEMA = "validates_schema"

Finisher = Callable[[Any], Any]
_Step = tuple[str, str, Finisher | None, tuple[Finisher, ...], bool, Any, bool]


class NotCompilable(Exception):
    """The schema uses something the compiler does not model; the type stays on marshmallow."""


class _Reject(Exception):
    """A compiled check failed: let marshmallow judge the event."""


class CompiledLoader:
    """``load(value) -> dict | None``: the loaded data of one event type, or None to use marshmallow."""

    def __init__(self, schema: Schema) -> None:
        shape, self._finish = _compile_schema(schema, "Event")
        self._decoder = msgspec.json.Decoder(shape)

    def load(self, value: bytes) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self._finish(self._decoder.decode(value))
        except Exception:  # any failure at all: marshmallow decides, with its messages
            return None
        return result


def compile_loader(schema: Schema) -> CompiledLoader | None:
    """A compiled loader for ``schema``, or None if it uses anything outside the modelled subset."""
    try:
        return CompiledLoader(schema)
    except NotCompilable:
        return None


# --- schemas ----------------------------------------------------------------------------------


def _compile_schema(schema: Schema, name: str) -> tuple[Any, Finisher]:
    if schema.many or schema.unknown != EXCLUDE:
        raise NotCompilable(f"{type(schema).__name__}: many or unknown != EXCLUDE")
    hooks = schema._hooks
    if any(hooks.get(tag) for tag in ("pre_load", "post_load", "validates")):
        raise NotCompilable(f"{type(schema).__name__}: load hooks or @validates")
    schema_hooks: list[Callable[..., Any]] = []
    rule_tests: list[Any] = []  # Payload's declared rules, tested in the generated code
    # marshmallow runs the pass_collection hooks first, then the others, each in declaration order
    ordered = sorted(hooks.get(VALIDATES_SCHEMA, ()), key=lambda hook: not hook[1])
    for attr_name, _pass_collection, kwargs in ordered:
        if kwargs.get("pass_original"):
            raise NotCompilable(f"{type(schema).__name__}.{attr_name}: pass_original")
        hook = getattr(schema, attr_name)
        if getattr(hook, "__func__", None) is Payload._check_rules:
            rules = tuple(type(schema).rules)  # type: ignore[attr-defined]
            if all(type(rule) in _rule_tests() for rule in rules):
                rule_tests.extend(rules)  # inlined below; with no rules at all the check does nothing
                continue
        schema_hooks.append(hook)
    partial, unknown = schema.partial, schema.unknown

    annotations: dict[str, Any] = {}
    # (input key, output key, converter of non-null values or None, extra checks, raw, default, required)
    steps: list[_Step] = []
    for attr_name, field in schema.load_fields.items():
        in_key = field.data_key or attr_name
        out_key = field.attribute or attr_name
        shape, convert, checks, raw = _compile_field(field, f"{name}_{attr_name}")
        if not raw and field.allow_none:
            shape = Union[shape, None]  # noqa: UP007 (a runtime type expression)
        annotations[in_key] = Required[shape] if field.required else NotRequired[shape]
        steps.append((in_key, out_key, convert, tuple(checks), raw, field.load_default, bool(field.required)))

    finish = _generate_finisher(name, steps, schema_hooks, rule_tests, partial, unknown)
    typed_dict: Any = TypedDict  # built at run time from the schema: mypy cannot check it
    return typed_dict(name, annotations), finish


def _generate_finisher(
    name: str,
    steps: list[_Step],
    hooks: list[Callable[..., Any]],
    rules: list[Any],
    partial: Any,
    unknown: Any,
) -> Finisher:
    """Straight-line Python for one schema's pass (a generic loop over the fields costs twice as much).

    Per field, in ``load_fields`` order (the order marshmallow builds its result in): present →
    converted and checked unless null (a raw field deserializes even null, as marshmallow's field
    does); absent → ``load_default`` if it has one, else left out. Then the schema's hooks.
    """
    namespace: dict[str, Any] = {"_MISSING": _ABSENT, "_partial": partial, "_unknown": unknown, "_Reject": _Reject}
    lines = [f"def finish_{_identifier(name)}(data):", "    out = {}"]
    for i, (in_key, out_key, convert, checks, raw, default, required) in enumerate(steps):
        namespace[f"_c{i}"] = convert
        if required:  # the decoder has made sure it is there
            pad = "    "
            lines.append(f"    v = data[{in_key!r}]")
        else:
            pad = "        "
            lines.append(f"    v = data.get({in_key!r}, _MISSING)")
            lines.append("    if v is not _MISSING:")
        if raw:
            lines.append(f"{pad}v = _c{i}(v)")
        elif convert is not None or checks:
            lines.append(f"{pad}if v is not None:")
            if convert is not None:
                lines.append(f"{pad}    v = _c{i}(v)")
            for j, check in enumerate(checks):
                namespace[f"_k{i}_{j}"] = check
                lines.append(f"{pad}    _k{i}_{j}(v)")
        lines.append(f"{pad}out[{out_key!r}] = v")
        if default is not missing and not required:
            namespace[f"_d{i}"] = default
            lines.append("    else:")
            call = "()" if callable(default) else ""
            lines.append(f"        out[{out_key!r}] = _d{i}{call}")
    for j, rule in enumerate(rules):
        lines.append(f"    if {_rule_tests()[type(rule)](rule, f'_r{j}', namespace)}:")
        lines.append("        raise _Reject")
    for j, hook in enumerate(hooks):
        namespace[f"_h{j}"] = hook
        lines.append(f"    _h{j}(out, partial=_partial, many=False, unknown=_unknown)")
    lines.append("    return out")
    exec("\n".join(lines), namespace)  # source built above; keys only via repr()
    finisher: Finisher = namespace[f"finish_{_identifier(name)}"]
    return finisher


_ABSENT = object()


# --- Payload's conditional rules, as expressions --------------------------------------------------
# Each gives a Python expression over the finished dict ``out`` that is true exactly when the
# rule's ``violations(out)`` is not empty; a true one rejects (marshmallow then judges and words
# the message). Ten rules checked through ``_check_rules`` and each rule's method would cost a
# GuidanceIssued ~8 µs; inlined, they cost under one.


def _required_when(rule: Any, name: str, namespace: dict[str, Any]) -> str:
    groups = " or ".join(
        "(" + " and ".join(f"out.get({f!r}) is not None" for f in group) + ")" for group in rule.any_of
    )
    if rule.on is None:
        return f"not ({groups})"
    namespace[name] = rule.values
    return f"out.get({rule.on!r}) in {name} and not ({groups})"


def _null_unless(rule: Any, name: str, namespace: dict[str, Any]) -> str:
    namespace[name] = rule.values
    present = " or ".join(f"out.get({f!r}) is not None" for f in rule.fields)
    return f"out.get({rule.on!r}) not in {name} and ({present})"


def _one_of_when(rule: Any, name: str, namespace: dict[str, Any]) -> str:
    namespace[name], namespace[name + "a"] = rule.values, rule.allowed
    return f"out.get({rule.on!r}) in {name} and out.get({rule.field!r}) not in {name}a"


@functools.cache
def _rule_tests() -> dict[type, Callable[[Any, str, dict[str, Any]], str]]:
    return {RequiredWhen: _required_when, NullUnless: _null_unless, OneOfWhen: _one_of_when}


def _identifier(name: str) -> str:
    return re.sub(r"\W", "_", name)


# --- fields -------------------------------------------------------------------------------------

#: fields this compiler does not model but whose ``deserialize`` needs nothing but the value
_RAW_FIELDS = (fields.Url, fields.Email, fields.Decimal, fields.Dict)


def _compile_field(field: fields.Field[Any], name: str) -> tuple[Any, Finisher | None, list[Finisher], bool]:
    """(msgspec type, converter of non-null values, extra checks, raw); raw = the field deserializes itself."""
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        raise NotCompilable(f"{name}: field-level load functions")
    kind = type(field)
    validators = list(field.validators)
    if isinstance(field, _RAW_FIELDS):
        return Any, _raw_deserializer(field), [], True
    if kind is fields.Raw:  # any JSON value, taken as it is (marshmallow's Raw does the same)
        return Any, None, validators, False
    if kind is fields.String:
        shape, rest = _string_shape(validators)
        return shape, None, rest, False
    if kind is fields.UUID:
        return uuid.UUID, None, validators, False
    if kind is fields.Boolean:
        truthy, falsy = field.truthy, field.falsy  # type: ignore[attr-defined]
        if truthy and not (True in truthy and False in falsy and False not in truthy):
            raise NotCompilable(f"{name}: custom truthy/falsy")
        return bool, None, validators, False
    if kind is fields.Integer:
        shape, rest = _number_shape(int, validators)
        return shape, None, rest, False
    if kind is fields.Float:
        shape, rest = _number_shape(float, validators)
        if getattr(field, "allow_nan", False):
            raise NotCompilable(f"{name}: allow_nan")
        return shape, _finite, rest, False
    if kind is fields.Date and field.format in ("iso", "iso8601"):  # type: ignore[attr-defined]
        return str, date.fromisoformat, validators, False
    if kind is fields.AwareDateTime and field.format in ("iso", "iso8601"):  # type: ignore[attr-defined]
        if field.default_timezone is not None:  # type: ignore[attr-defined]
            raise NotCompilable(f"{name}: default_timezone")
        return str, _aware_datetime, validators, False
    if kind is fields.DateTime and field.format in ("iso", "iso8601"):  # type: ignore[attr-defined]
        return str, datetime.fromisoformat, validators, False
    if kind is fields.Nested:
        nested: Any = field
        if nested.many or nested.only or nested.exclude or nested.unknown not in (None, EXCLUDE):
            raise NotCompilable(f"{name}: Nested with many/only/exclude/unknown")
        if not isinstance(nested.schema, Schema):
            raise NotCompilable(f"{name}: Nested without a schema")
        shape, finish = _compile_schema(nested.schema, name)
        return shape, finish, validators, False
    if kind is fields.List:
        inner: fields.Field[Any] = field.inner  # type: ignore[attr-defined]
        inner_shape, inner_convert, inner_checks, inner_raw = _compile_field(inner, name + "_item")
        if inner_raw:
            raise NotCompilable(f"{name}: list of raw fields")
        if inner.allow_none:
            inner_shape = Union[inner_shape, None]  # noqa: UP007
        meta, rest = _length_meta(validators)
        shape = Annotated[list[inner_shape], meta] if meta else list[inner_shape]  # type: ignore[valid-type]
        if inner_convert is None and not inner_checks:
            return shape, None, rest, False
        return shape, _list_converter(inner_convert, tuple(inner_checks)), rest, False
    raise NotCompilable(f"{name}: {kind.__name__} is not modelled")


def _raw_deserializer(field: fields.Field[Any]) -> Finisher:
    def deserialize(value: Any) -> Any:
        return field.deserialize(value)

    return deserialize


def _list_converter(convert: Finisher | None, checks: tuple[Finisher, ...]) -> Finisher:
    def each(values: list[Any]) -> list[Any]:
        out = []
        for value in values:
            if value is not None:
                if convert is not None:
                    value = convert(value)
                for check in checks:
                    check(value)
            out.append(value)
        return out

    return each


def _finite(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        raise _Reject("special float")
    return value


def _aware_datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:  # marshmallow's utils.is_aware
        raise _Reject("naive datetime")
    return moment


def _string_shape(validators: list[Any]) -> tuple[Any, list[Any]]:
    """str constrained by the first Length, OneOf and anchored Regexp; other validators stay checks."""
    rest: list[Any] = []
    constraints: dict[str, Any] = {}
    choices: tuple[str, ...] | None = None
    for validator in validators:
        if type(validator) is validate.Length and not ({"min_length", "max_length"} & constraints.keys()):
            constraints.update(_length_constraints(validator))
        elif (
            type(validator) is validate.OneOf
            and choices is None
            and all(type(choice) is str for choice in validator.choices)
        ):
            choices = tuple(validator.choices)
        elif (
            type(validator) is validate.Regexp
            and "pattern" not in constraints
            and isinstance(validator.regex.pattern, str)
            and validator.regex.pattern.startswith("^")
            and validator.regex.flags == re.UNICODE
        ):
            constraints["pattern"] = validator.regex.pattern  # msgspec searches; "^" makes it marshmallow's match
        else:
            rest.append(validator)
    if choices is not None and not constraints:
        if not choices:
            raise NotCompilable("OneOf without choices")
        return Literal[choices], rest
    if choices is not None:  # a Literal takes no string constraints: OneOf stays a check
        rest.extend(v for v in validators if type(v) is validate.OneOf and tuple(v.choices) == choices)
    return (Annotated[str, msgspec.Meta(**constraints)] if constraints else str), rest


def _length_constraints(validator: validate.Length) -> dict[str, Any]:
    if validator.equal is not None:
        return {"min_length": validator.equal, "max_length": validator.equal}
    out = {}
    if validator.min is not None:
        out["min_length"] = validator.min
    if validator.max is not None:
        out["max_length"] = validator.max
    return out


def _length_meta(validators: list[Any]) -> tuple[msgspec.Meta | None, list[Any]]:
    for i, validator in enumerate(validators):
        if type(validator) is validate.Length:
            constraints = _length_constraints(validator)
            return (msgspec.Meta(**constraints) if constraints else None), validators[:i] + validators[i + 1 :]
    return None, validators


def _number_shape(kind: type, validators: list[Any]) -> tuple[Any, list[Any]]:
    for i, validator in enumerate(validators):
        if type(validator) is validate.Range:
            constraints: dict[str, Any] = {}
            if validator.min is not None:
                constraints["ge" if validator.min_inclusive else "gt"] = validator.min
            if validator.max is not None:
                constraints["le" if validator.max_inclusive else "lt"] = validator.max
            if kind is int and any(type(bound) is not int for bound in constraints.values()):
                break  # msgspec wants integer bounds for int: keep marshmallow's check
            rest = validators[:i] + validators[i + 1 :]
            return (Annotated[kind, msgspec.Meta(**constraints)] if constraints else kind), rest
    return kind, validators
