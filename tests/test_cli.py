"""Script arguments: Hydra's override grammar over a dict of defaults, unknown keys named."""

import pytest
from kvargs import parse_kv


def test_hydra_override_grammar() -> None:
    args = parse_kv("t", {"runs": [], "a": {"b": 1}, "n": None, "xs": [1]},
                    ["runs=[{scale:3,dir:/x/y}]", "a.b=2", "n='hi there'", "xs=[2,3]"])
    assert args == {"runs": [{"scale": 3, "dir": "/x/y"}], "a": {"b": 2}, "n": "hi there",
                    "xs": [2, 3]}


def test_unknown_keys_and_bad_arguments_are_named() -> None:
    with pytest.raises(SystemExit, match="unknown key 'zz'.*allowed keys: \\['a'\\]"):
        parse_kv("t", {"a": 1}, ["zz=1"])
    with pytest.raises(SystemExit, match="key=value"):
        parse_kv("t", {"a": 1}, ["a"])
