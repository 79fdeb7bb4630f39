"""Reading a user's YAML: one-line errors, the size limit, and the alias-bomb guard."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from fleetcheck.errors import ConfigError
from fleetcheck.registry.yamlfile import (
    MAX_INPUT_BYTES,
    AliasBombError,
    config_error_from_validation,
    expanded_node_count,
    read_yaml_mapping,
)
from tests.builders import alias_bomb


def _file(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "in.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_mapping_is_read_and_empty_file_is_empty(tmp_path: Path) -> None:
    assert read_yaml_mapping(_file(tmp_path, "a: 1\nb: [x, y]\n"), "profile") == {"a": 1, "b": ["x", "y"]}
    assert read_yaml_mapping(_file(tmp_path, "# only a comment\n"), "profile") == {}


def test_ordinary_aliases_are_fine(tmp_path: Path) -> None:
    text = "base: &b {cpu: 1, memory: 2Gi}\nteam-a: *b\nteam-b: {<<: *b, cpu: 2}\n"
    data = read_yaml_mapping(_file(tmp_path, text), "profile")
    assert data["team-a"] == {"cpu": 1, "memory": "2Gi"}
    assert data["team-b"] == {"cpu": 2, "memory": "2Gi"}


@pytest.mark.parametrize(
    ("content", "field", "words"),
    [
        ("a: [1, 2\n", "line 2", "invalid YAML"),
        ("a: 1\n---\nb: 2\n", "line 2", "invalid YAML"),
        ("- a\n- b\n", "(top)", "must be a mapping, got list"),
        (b"description: caf\xe9\n", "byte 16", "not UTF-8"),
        ("a: &x [1, *x]\n", "line 1", "recursive"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, content: str | bytes, field: str, words: str) -> None:
    path = _file(tmp_path, content)
    with pytest.raises(ConfigError) as info:
        read_yaml_mapping(path, "profile")
    assert info.value.source == str(path)
    assert info.value.field == field
    assert words in info.value.problem
    assert info.value.fix
    assert "\n" not in info.value.one_line()


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fleet file not found"):
        read_yaml_mapping(tmp_path / "nope.yaml", "fleet file")
    big = tmp_path / "big.yaml"
    with big.open("wb") as out:
        out.truncate(MAX_INPUT_BYTES + 1)
    with pytest.raises(ConfigError, match="limit"):
        read_yaml_mapping(big, "fleet file")


def test_alias_bomb_is_refused_quickly_naming_the_key(tmp_path: Path) -> None:
    path = _file(tmp_path, "name: ok\n" + alias_bomb())
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        read_yaml_mapping(path, "profile")
    assert time.perf_counter() - started < 2
    assert info.value.field == "a9"
    assert "alias bomb" in info.value.problem
    assert "aliases" in info.value.fix


def test_expanded_node_count_counts_every_alias_once_per_use() -> None:
    node = yaml.compose("a: &x [1, 2]\nb: *x\nc: [*x, *x]\n")
    expanded, distinct = expanded_node_count(node)
    # mapping + 3 keys + list x (3) + c's list (1) + 2 more uses of x (6) + b's use (3)
    assert distinct == 1 + 3 + 3 + 1
    assert expanded == 1 + 3 + 3 + 3 + 1 + 6
    bomb = yaml.compose(alias_bomb(levels=9, width=9))
    total, small = expanded_node_count(bomb)
    assert small < 200
    assert total > 9**9
    with pytest.raises(AliasBombError):
        expanded_node_count(yaml.compose("a: &x {b: *x}\n"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clusters: list[dict[str, int]] = []
    version: int = 1


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({"colour": 1}, "colour", "unknown field"),
        ({"clusters": [{"a": 1}, {"b": "x"}]}, "clusters[1].b", "(got 'x')"),
        ({"version": "two"}, "version", "valid integer"),
    ],
)
def test_validation_errors_become_dotted_fields(data: dict[str, object], field: str, problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        _Model.model_validate(data)
    error = config_error_from_validation("f.yaml", info.value, "see the docs")
    assert error.field == field
    assert problem in error.problem
    assert error.one_line().startswith(f"f.yaml: {field}: ")
    assert error.one_line().endswith("(fix: see the docs)")
