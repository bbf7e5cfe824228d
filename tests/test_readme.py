"""The README's set-up commands are the ones CI runs."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _ci_command() -> str:
    lines = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [l for l in lines if l and not l.startswith("#") and not l.startswith(("set ", "cd ",
                                                                                       "export "))]
    assert len(commands) == 1, commands
    return commands[0]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```\n(.*?)\n```", readme, flags=re.S)
    assert _ci_command() in blocks


def test_readme_main_command_uses_the_same_setup():
    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```\n(.*?)\n```", readme, flags=re.S) if "snnc " in b]
    assert any(b.startswith("bash scripts/setup.sh && .venv/bin/snnc ") for b in blocks)


def test_readme_python_snippet_runs_as_written(monkeypatch):
    """The "From Python" block runs as it stands (it used an `x` it never defined)."""
    readme = (ROOT / "README.md").read_text()
    [block] = re.findall(r"```python\n(.*?)\n```", readme, flags=re.S)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["result"].predictions.shape == (len(scope["x"]),)


def test_torch_doc_snippet_runs_as_written(monkeypatch):
    """docs/torch.md's example trains one step and exports weights that load back."""
    import numpy as np
    import pytest

    pytest.importorskip("torch")
    doc = (ROOT / "docs" / "torch.md").read_text()
    [block] = re.findall(r"```python\n(.*?)\n```", doc, flags=re.S)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(block, "docs/torch.md", "exec"), scope)
    assert scope["out"].readout.shape == (32, 10)
    assert scope["net"].layer("hidden").weight.grad.abs().sum() > 0
    net = scope["model"].to_torch(scope["weights"])
    for layer, tensors in scope["weights"].items():
        np.testing.assert_array_equal(net.export_weights()[layer]["weight"], tensors["weight"])
