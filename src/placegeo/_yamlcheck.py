"""Declarative YAML files checked against a JSON schema: the loop the layer registry and the city
profiles share.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

__all__ = ["checked_documents"]


def checked_documents(directory: Path, schema_name: str, errors: list[str], *,
                      what: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Each ``*.yaml`` file of ``directory`` that is valid YAML, matches ``schema_name`` and is named
    after its ``name``; the problems of the others are appended to ``errors``.

    >>> errors: list[str] = []
    >>> list(checked_documents(Path("no-such-folder"), "x.schema.json", errors, what="layer definitions"))
    []
    >>> errors
    ['x.schema.json: the schema is missing from no-such-folder/']
    """
    schema_path = directory / schema_name
    if not schema_path.exists():
        errors.append(f"{schema_name}: the schema is missing from {directory.name}/")
        return
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))
    files = sorted(directory.glob("*.yaml"))
    if not files:
        errors.append(f"no {what} (*.yaml) found in {directory.name}/")
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            errors.append(f"{path.name}: not valid YAML: {exc}")
            continue
        problems = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in problems:
            errors.append(f"{path.name}: at {'/'.join(str(x) for x in e.path) or '(top level)'}: {e.message}")
        if problems:
            continue
        if doc["name"] != path.stem:
            errors.append(f"{path.name}: name '{doc['name']}' must match the file name '{path.stem}'")
            continue
        yield path, doc
