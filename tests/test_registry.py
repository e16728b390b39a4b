import shutil

import pytest
import yaml
from click.testing import CliRunner

from placegeo.cli import main
from placegeo.errors import LayerNotFoundError, SchemaError
from placegeo.registry import get_layer, layers_dir, load_registry, validate_registry

LAYERS = {"admin_units", "traditional_place_names", "cemeteries", "elderly_facilities", "relief_points",
          "population_units", "walk_edges", "coverage_units", "coverage_gaps", "service_areas", "place_names",
          "scattered_graves", "protection_lines", "protection_areas"}


def test_all_layers_are_registered_and_valid():
    assert validate_registry() == []
    assert set(load_registry()) == LAYERS


def test_every_layer_carries_source_and_sample():
    for spec in load_registry().values():
        assert spec.field("source").required
        assert spec.field("sample").type == "boolean"


def test_layer_definitions_say_what_the_issue_asks():
    assert get_layer("traditional_place_names").field("category").enum == ("黄河", "泉水", "古城", "商埠", "乡村",
                                                                           "红色", "其他")
    assert get_layer("admin_units").field("code").code_digits == (6, 9, 12)
    assert get_layer("elderly_facilities").field("type").enum == ("养老院", "综合养老服务中心", "日间照料中心",
                                                                  "农村幸福院", "长者助餐站点")
    assert get_layer("cemeteries").field("level").enum == ("市", "县", "镇", "村")
    assert get_layer("cemeteries").field("capacity_plots").unit == "plots"
    assert "rescue_station" in get_layer("relief_points").field("kind").enum


def test_unknown_layer_lists_the_known_ones():
    with pytest.raises(LayerNotFoundError, match="cemeteries"):
        get_layer("cemetery")


@pytest.fixture
def broken_dir(tmp_path):
    d = tmp_path / "layers"
    shutil.copytree(layers_dir(), d, ignore=shutil.ignore_patterns("data", "*.md", "*.py"))
    spec = yaml.safe_load((d / "cemeteries.yaml").read_text(encoding="utf-8"))
    spec["primary_key"] = "no_such_field"
    spec["fields"][0]["type"] = "uuid"
    (d / "cemeteries.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return d


def test_schema_violations_are_reported_with_file_and_place(broken_dir):
    problems = validate_registry(broken_dir)
    assert any("cemeteries.yaml" in p and "fields/0/type" in p for p in problems)
    with pytest.raises(SchemaError, match="placegeo layers validate"):
        load_registry(broken_dir)


def test_consistency_problems_are_reported(broken_dir):
    spec = yaml.safe_load((broken_dir / "cemeteries.yaml").read_text(encoding="utf-8"))
    spec["fields"][0]["type"] = "string"
    (broken_dir / "cemeteries.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    problems = validate_registry(broken_dir)
    assert problems == ["cemeteries.yaml: primary_key 'no_such_field' is not one of the fields"]


def test_cli_layers_validate_exit_codes(broken_dir):
    runner = CliRunner()
    ok = runner.invoke(main, ["layers", "validate"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["layers", "validate", "--dir", str(broken_dir)])
    assert bad.exit_code == 2
    assert "fields/0/type" in bad.output
