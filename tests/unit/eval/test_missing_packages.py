"""A benchmark command whose packages are missing says, in one line, how to install them."""

import sys

import pytest

from vldac.cli import main


@pytest.mark.parametrize("argv, module, command", [
    (["lmms", "--model", "tiny:qwen2_vl", "--benchmark", "mme", "--fixture"], "lmms_eval",
     "pip install --no-deps lmms-eval==0.7.3"),
    (["balrog", "--model", "tiny:qwen2_vl", "--envs", "crafter", "--episodes", "1"], "crafter",
     "pip install -e '.[balrog]'"),
])
def test_missing_package_names_the_install_command(argv, module, command, tmp_path,
                                                   monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, module, None)  # importing it now fails
    for name in list(sys.modules):  # and no submodule is cached either
        if name.startswith(module + "."):
            monkeypatch.delitem(sys.modules, name)
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()  # progress bars of the tiny model's build first
    last = err.splitlines()[-1]
    assert last.startswith("vldac: error: ") and command in last and "Traceback" not in err
