"""The conda environments (envs/*.yaml) list the packages and lower bounds of
pyproject.toml, so that a run with --sdm conda gets what a pip install gets. Conda channels
cannot be reached from here, so the environments are compared, not built."""

import re
import tomllib

import yaml
from conftest import REPO

#: pip names whose conda-forge package is named otherwise
CONDA_NAMES = {"opencv-python-headless": "py-opencv", "matplotlib": "matplotlib-base"}
#: what only the workflow driver imports (Snakemake itself, the config check, --report):
#: jobs never need it
DRIVER_ONLY = {"snakemake", "jsonschema", "pygments"}


def requirements(specs):
    out = {}
    for spec in specs:
        name, bound = re.match(r"^([A-Za-z0-9_.-]+)\s*(?:>=\s*([0-9.]+))?", spec).groups()
        out[name.lower()] = bound
    return out


def environment(name):
    data = yaml.safe_load((REPO / "envs" / name).read_text())
    deps = [d for d in data["dependencies"] if isinstance(d, str) and not d.startswith("python=")]
    return requirements(deps)


def test_conda_environments_match_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = {
        CONDA_NAMES.get(name, name): bound
        for name, bound in requirements(project["dependencies"]).items()
        if name not in DRIVER_ONLY
    }
    assert base and all(bound for bound in base.values()), base
    assert environment("panelmatch.yaml") == base
    deep = requirements(project["optional-dependencies"]["deep"])
    # the model runner, not onnx (which only the tests use to build a model)
    assert environment("deep.yaml") == base | {"onnxruntime": deep["onnxruntime"]}
