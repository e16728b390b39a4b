"""What an analysis result rests on: its method, its parameters and whether any input was sample data.

Every coverage and cemetery result carries this dictionary in its ``attrs`` (and the CLI in its
JSON), so that no table, map or chart can be shown without saying how it was computed and whether
it rests on generated sample data rather than surveyed data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["SAMPLE_NOTICE", "is_sample", "provenance", "sample_notice"]

_TRUE = {"true", "1", "yes", "y", "t"}

#: what every table, chart, map legend, CLI line and web answer says when a result rests on sample data
SAMPLE_NOTICE = "rests on sample data"


def is_sample(data: Any) -> bool:
    """Whether ``data`` is (partly) sample data.

    A (Geo)DataFrame is when any row has ``sample`` true; any other object (a walking network) when
    its ``sample`` attribute is true; ``None`` never is.

    >>> import pandas as pd
    >>> is_sample(pd.DataFrame({"sample": [False, True]})), is_sample(pd.DataFrame({"x": [1]})), is_sample(None)
    (True, False, False)
    """
    if data is None:
        return False
    if isinstance(data, pd.DataFrame):
        if "sample" not in data.columns or data.empty:
            return False
        flags = data["sample"]
        if flags.dtype == object:  # text read from a file: 'True' / 'False'
            return bool(flags.map(lambda v: str(v).strip().lower() in _TRUE).any())
        return bool(flags.fillna(False).astype(bool).any())
    return bool(getattr(data, "sample", False))


def _as_dict(parameters: Any) -> dict[str, Any]:
    if parameters is None:
        return {}
    if dataclasses.is_dataclass(parameters) and not isinstance(parameters, type):
        return dataclasses.asdict(parameters)
    return dict(parameters)


def provenance(
    *,
    method: str | None = None,
    parameters: Any = None,
    inputs: Mapping[str, Any] | None = None,
    based_on: pd.DataFrame | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``attrs`` that say what a result rests on.

    Parameters
    ----------
    method : str, optional
        How it was computed (default: the method of ``based_on``).
    parameters : dataclass or mapping, optional
        The parameters used (a dataclass is turned into a dict).
    inputs : mapping of name to data, optional
        The inputs, checked with :func:`is_sample`.
    based_on : DataFrame or mapping, optional
        The result this one is derived from, or its ``attrs``: its method, parameters and sample
        inputs carry over. A result without provenance (read back from a file) counts as an input
        named ``result``.

    Returns
    -------
    dict
        ``method``, ``parameters``, ``sample`` (bool: does any input hold sample data) and
        ``sample_inputs`` (which ones).

    Examples
    --------
    >>> import pandas as pd
    >>> units, facilities = pd.DataFrame({"sample": [True]}), pd.DataFrame({"sample": [False]})
    >>> p = provenance(method="network", parameters={"minutes": 15}, inputs={"units": units, "facilities": facilities})
    >>> p["sample"], p["sample_inputs"]
    (True, ['units'])
    >>> provenance(parameters={"by": "town_code"}, based_on=p)["parameters"]
    {'minutes': 15, 'by': 'town_code'}
    """
    inputs = dict(inputs or {})
    base: Mapping[str, Any] = {}
    if isinstance(based_on, pd.DataFrame):
        base = based_on.attrs
        if "sample_inputs" not in base:
            inputs.setdefault("result", based_on)
    elif based_on is not None:
        base = based_on
    sample_inputs = list(base.get("sample_inputs", []))
    sample_inputs += [name for name, data in inputs.items() if is_sample(data) and name not in sample_inputs]
    return {
        "method": method if method is not None else base.get("method", ""),
        "parameters": {**base.get("parameters", {}), **_as_dict(parameters)},
        "sample": bool(sample_inputs) or bool(base.get("sample", False)),
        "sample_inputs": sample_inputs,
    }


def sample_notice(attrs: Mapping[str, Any] | pd.DataFrame | None) -> str | None:
    """The notice to show beside a result that rests on sample data, or None when it does not.

    ``attrs`` is a result's provenance (its ``attrs``, or the result itself). The notice names the
    inputs that hold sample data, so a planner knows what to replace with surveyed data.

    >>> sample_notice({"sample": True, "sample_inputs": ["units", "network"]})
    'rests on sample data: units, network (generated for demonstration, not surveyed; do not use it for decisions)'
    >>> sample_notice({"sample": False, "sample_inputs": []}) is None
    True
    """
    if isinstance(attrs, pd.DataFrame):
        attrs = attrs.attrs
    if not attrs or not attrs.get("sample"):
        return None
    inputs = [str(i) for i in attrs.get("sample_inputs") or []]
    named = f": {', '.join(inputs)}" if inputs else ""
    return f"{SAMPLE_NOTICE}{named} (generated for demonstration, not surveyed; do not use it for decisions)"
