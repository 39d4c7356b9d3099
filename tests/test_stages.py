"""dvc.yaml is generated from vidad.book.stages; its code dependencies are import closures."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from vidad.book import stages
from vidad.book.stages import STAGES, import_closure, imported_modules, render_dvc_yaml

REPO = Path(__file__).resolve().parents[1]


def test_committed_dvc_yaml_is_what_the_stages_generate() -> None:
    assert (REPO / "dvc.yaml").read_text() == render_dvc_yaml(REPO), (
        "dvc.yaml is stale: run `python -m vidad.book.stages`"
    )


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    shutil.copytree(REPO / "lib", tmp_path / "lib")
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    (tmp_path / "dvc.yaml").write_text(render_dvc_yaml(REPO))
    assert stages.main(["--check", "--repo", str(tmp_path)]) == 0
    (tmp_path / "dvc.yaml").write_text(render_dvc_yaml(REPO) + "# edited by hand\n")
    assert stages.main(["--check", "--repo", str(tmp_path)]) == 1


def _deps(name: str) -> list[str]:
    return yaml.safe_load(render_dvc_yaml(REPO))["stages"][name]["deps"]


def test_a_detector_change_does_not_rerun_the_c3d_chapter() -> None:
    c3d = _deps("c3d")
    assert "lib/vidad/models/c3d.py" in c3d
    assert "lib/vidad/models/roi_head.py" not in c3d
    assert "lib/vidad/models/roi_head.py" in _deps("action_detection")


def test_every_chapter_depends_on_its_notebook_its_experiment_and_the_runner() -> None:
    for stage in STAGES:
        if not stage.notebook:
            continue
        deps = _deps(stage.name)
        assert deps[0] == f"notebooks/{stage.notebook}.py"
        assert "lib/vidad/book/run_chapter.py" in deps
        assert all((REPO / d).exists() for d in deps if d.startswith("lib/")), stage.name


def test_closure_follows_function_level_relative_and_submodule_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "vidad"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\n")
    (pkg / "sub" / "leaf.py").write_text("def f():\n    from vidad import lazy\n")
    (pkg / "lazy.py").write_text("import os\n")
    (pkg / "unused.py").write_text("")
    files = import_closure(["vidad.sub"], lib=tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in files)
    assert names == [
        "vidad/__init__.py",
        "vidad/lazy.py",
        "vidad/sub/__init__.py",
        "vidad/sub/leaf.py",
    ]


def test_notebook_magics_do_not_break_the_import_scan(tmp_path: Path) -> None:
    nb = tmp_path / "nb.py"
    nb.write_text("%matplotlib inline\n!ls\nfrom vidad.models import create_model\n")
    assert "vidad.models" in imported_modules(nb)


def test_dvc_sets_a_merged_recipe_key_on_one_stage_only(tmp_path: Path) -> None:
    """`dvc exp run -S r2plus1d.cpu.epochs=5` edits params.yaml through dvc's modify_yaml:
    with the recipe merged by a YAML anchor, the key must land on that stage alone."""
    from dvc.utils.serialize import modify_yaml

    params = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", params)
    before = yaml.safe_load(params.read_text())
    with modify_yaml(str(params)) as document:
        document["r2plus1d"]["cpu"]["epochs"] = 5
    after = yaml.safe_load(params.read_text())
    assert after["r2plus1d"]["cpu"]["epochs"] == 5
    assert after["c3d"]["cpu"]["epochs"] == before["c3d"]["cpu"]["epochs"] != 5
    assert {k: v for k, v in after.items() if k != "r2plus1d"} == {
        k: v for k, v in before.items() if k != "r2plus1d"
    }
