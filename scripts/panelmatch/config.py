"""The configuration: checked against its schema, one clear line per error.

The schema (``workflow/schemas/config.schema.yaml``) holds every key with its type, range,
description and default. :func:`problems` reads a merged configuration against it and
returns one line per problem, naming the key (and, for an unknown key, the nearest valid
one), so that the message is the last thing a user sees, not a dump of the schema.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


def _path(parts) -> str:
    return ".".join(str(p) for p in parts) or "(the configuration)"


def unknown_keys(config: Any, schema: Mapping, where: tuple = ()) -> Iterator[str]:
    """One line for every key of `config` that `schema` does not allow, with the nearest
    allowed key when one is close."""
    if not isinstance(config, Mapping) or schema.get("type") not in ("object", ["object", "null"]):
        return
    properties = schema.get("properties", {})
    closed = schema.get("additionalProperties") is False
    for key, value in config.items():
        if key in properties:
            yield from unknown_keys(value, properties[key], (*where, key))
        elif closed:
            near = difflib.get_close_matches(str(key), list(properties), n=1, cutoff=0.6)
            hint = f" (did you mean `{_path((*where, near[0]))}`?)" if near else ""
            allowed = ", ".join(sorted(properties))
            yield f"unknown key `{_path((*where, key))}`{hint}; allowed here: {allowed}"


def _resolved(schema: Mapping, root: Mapping) -> Mapping:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def problems(config: Mapping, schema: Mapping) -> list[str]:
    """Every problem of `config` against `schema`, one line each: unknown keys first (with
    the nearest valid key), then values of the wrong type or out of range."""
    found = list(unknown_keys(config, _resolve_refs(schema, schema)))
    if found:
        return found
    validator = jsonschema.Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        found.append(f"`{_path(error.absolute_path)}`: {error.message}")
    return found


def _resolve_refs(node: Any, root: Mapping) -> Any:
    """The schema with every local ``$ref`` replaced by what it points to."""
    if isinstance(node, Mapping):
        node = _resolved(node, root)
        return {k: _resolve_refs(v, root) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_resolve_refs(v, root) for v in node]
    return node
