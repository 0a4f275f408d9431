"""Every shell command that README.md and docs/ give, run as written, so the docs cannot
drift from the code.

Commands are found in the ```bash blocks and in inline code that starts with a command
(snakemake, python, pip, pytest, ruff, snakefmt, PYTHONPATH=). Each one is either run, in
a scratch copy of this repository (after the README's quick start, `snakemake --cores
all`, has run there), or listed in NOT_RUN with the reason; a documented command that is
in neither, or an entry here that no document gives any more, fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, require_workflow_mark

pytestmark = pytest.mark.workflow

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
COMMAND = re.compile(r"(snakemake|python3? |pip |pytest|ruff |snakefmt |PYTHONPATH=)")

#: Documented commands that are not run here, and why.
NOT_RUN = {
    "pip install -e .": "installs the package: the tests run on this installation",
    "pip install -e '.[test,deep]'": "installs the package: the tests run on this installation",
    "pip install -e '.[test,deep]' && pytest -m \"not workflow\" && pytest -m workflow": (
        "the test suite itself"
    ),
    "pip install -e '.[slurm]'": "installs the SLURM plugin (tests/test_slurm.py uses it)",
    "pip install -e '.[deep]'": "installs the package: the tests run on this installation",
    'pytest -m "not workflow"': "the test suite itself",
    "pytest -m workflow": "the test suite itself",
    "pytest": "the test suite itself",
    "snakemake": "names the program",
    "snakemake_cmd": "names a test helper",
    "snakemake-executor-plugin-slurm": "names a package",
    "python -m panelmatch query": "names the command (the README's full query runs below)",
    "python benchmarks/quality.py": "a benchmark: minutes of real workflow runs",
    "python benchmarks/throughput.py [--reference]": "a benchmark: minutes at 9,442 panels",
    "python benchmarks/throughput.py --reference --target both --repeat 2": (
        "a benchmark: minutes at 9,442 panels"
    ),
    "python benchmarks/throughput.py --images 100000": "a benchmark: an hour at 100,000 panels",
    "python benchmarks/distances.py [--native]": "a benchmark: it times the kernel at scale",
    "python benchmarks/distances.py": "a benchmark: it times the kernel at scale",
    "python benchmarks/resampling.py": "a benchmark: it times the resize at scale",
    "python benchmarks/steps.py": "a benchmark: it times every step at scale",
    "python benchmarks/local_features.py": "a benchmark: minutes of verification",
    "snakemake --workflow-profile profiles/slurm --configfile my.yaml "
    "--default-resources slurm_account=MYACCOUNT slurm_partition=MYPARTITION mem_mb=2000 "
    "runtime=30": "needs a SLURM cluster and an account (tests/test_slurm.py runs one)",
}

#: Documented commands run with their placeholders filled in: as written -> as run.
FILLED = {
    "snakemake -s /path/to/panelmatch/Snakefile --directory /data/run1 --configfile my.yaml "
    "--cores all": "snakemake -s {repo}/Snakefile --directory {tmp}/run1 --configfile my.yaml "
    "--cores all",
    "python -m panelmatch query new_panel.gif [more.png ...] [--results results] [-k 10] "
    "[--csv found.csv]": "python -m panelmatch query new_panel.gif more.png --results results "
    "-k 10 --csv found.csv",
    "python benchmarks/candidates.py RUN_DIR": "python benchmarks/candidates.py .",
}

#: Commands that rewrite a file of the repository: it must come out unchanged.
REGENERATES = {
    "PYTHONPATH=scripts python -m panelmatch config --yaml > config.yaml": "config.yaml",
    "PYTHONPATH=scripts python -m panelmatch config --markdown > docs/configuration.md": (
        "docs/configuration.md"
    ),
    "python -m panelmatch config --markdown > docs/configuration.md": "docs/configuration.md",
}


def documented() -> dict[str, str]:
    """Every command of the docs -> the first file that gives it."""
    found: dict[str, str] = {}
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"```bash\n(.*?)```", text, re.S):
            joined = re.sub(r"\\\n\s*", "", block)
            for line in joined.splitlines():
                line = re.sub(r"\s+#.*$", "", line).strip()
                if line and not line.startswith("#"):
                    found.setdefault(re.sub(r"\s+", " ", line), path.name)
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        for span in re.findall(r"`([^`\n]+)`", prose):
            if COMMAND.match(span):
                found.setdefault(span, path.name)
    return found


def test_every_documented_command_is_run_or_excused():
    found = documented()
    known = set(NOT_RUN) | set(FILLED) | set(REGENERATES) | set(RUN_AS_WRITTEN)
    assert sorted(set(found) - known) == [], "a documented command this test does not know"
    assert sorted(known - set(found)) == [], "an entry here that no document gives any more"


#: Commands run exactly as written, in the order given (after the quick start).
RUN_AS_WRITTEN = [
    "snakemake --cores all",
    "snakemake -n",
    "snakemake --report report.zip",
    "snakemake --lint",
    "snakemake results/groups.parquet --cores 2",
    "snakemake --cores 2",
    "snakemake --cores 2 --forcerun gallery --allowed-rules gallery",
    "snakemake --unlock",
    "snakemake --unlock && snakemake --cores all",
    "ruff check scripts tests",
    "ruff format",
    "snakefmt --check Snakefile workflow",
]


INDEX = "results/gallery/index.html"


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        command, shell=True, cwd=cwd, capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, f"{command!r} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


def test_the_documented_commands_run(tmp_path):
    require_workflow_mark()
    found = documented()
    copy = tmp_path / "panelmatch"
    shutil.copytree(
        REPO,
        copy,
        ignore=shutil.ignore_patterns(
            ".git",
            "results",
            "logs",
            ".snakemake",
            "resources",
            "__pycache__",
            "*.egg-info",
            ".pytest_cache",
            ".ruff_cache",
            "report.zip",
        ),
    )
    alone = "--allowed-rules gallery"  # one script run again on the finished results
    for command in RUN_AS_WRITTEN:  # the quick start first: the others read its results
        if alone in command:
            stamps = {p: (copy / p).stat().st_mtime_ns for p in ("results/groups.parquet", INDEX)}
        shell(command, copy)
        if alone in command:
            assert (copy / "results/groups.parquet").stat().st_mtime_ns == stamps[
                "results/groups.parquet"
            ]
            assert (copy / INDEX).stat().st_mtime_ns > stamps[INDEX]
    assert (copy / "results/gallery/index.html").is_file() and (copy / "report.zip").is_file()

    # the README's folder run: its my.yaml, with a folder of a few of the demo's panels
    photos = tmp_path / "photos"
    photos.mkdir()
    for gif in sorted((copy / "resources/demo/site").rglob("*.gif"))[:6]:
        shutil.copy(gif, photos / gif.name)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    my_yaml = yaml.safe_load(re.search(r"```yaml\n(# my.yaml\n.*?)```", readme, re.S).group(1))
    my_yaml["source"]["folder"] = str(photos)
    (copy / "my.yaml").write_text(yaml.safe_dump(my_yaml), encoding="utf-8")
    panels = sorted((copy / "resources/demo/site").rglob("*.gif"))
    shutil.copy(panels[0], copy / "new_panel.gif")
    shutil.copy(panels[1], copy / "more.png")
    for written, run in FILLED.items():
        assert written in found
        shell(run.format(repo=copy, tmp=tmp_path), copy)
    assert (tmp_path / "run1/results/groups.parquet").is_file()
    assert (copy / "found.csv").is_file()

    for written, path in REGENERATES.items():
        before = (copy / path).read_bytes()
        command = written if written.startswith("PYTHONPATH") else f"PYTHONPATH=scripts {written}"
        shell(command, copy)
        assert (copy / path).read_bytes() == before, f"{written!r} changed {path}"
