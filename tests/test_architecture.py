"""The layers point one way: rules -> scripts -> core; scripts never import each other and
the core never imports snakemake. Every rule has a log, and a script named after it."""

import ast
import re

from conftest import REPO

SCRIPTS = REPO / "scripts"
CORE = SCRIPTS / "panelmatch"


def imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_core_never_imports_snakemake():
    for path in CORE.glob("*.py"):
        bad = [m for m in imported_modules(path) if m.split(".")[0] == "snakemake"]
        assert not bad, f"{path.name} imports {bad}"


def test_scripts_never_import_each_other():
    scripts = {p.stem for p in SCRIPTS.glob("*.py")}
    for path in SCRIPTS.glob("*.py"):
        bad = [m for m in imported_modules(path) if m.split(".")[0] in scripts]
        assert not bad, f"{path.name} imports {bad}"


def test_every_rule_has_a_log_and_its_own_script():
    rules = {}
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for block in re.split(r"\n(?=\s*rule )", smk.read_text()):
            m = re.match(r"\s*rule (\w+):", block)
            if m:
                rules[m.group(1)] = block
    assert {
        "demo_site",
        "scrape",
        "ingest",
        "features",
        "thumbnails",
        "distances",
        "clusters",
        "summary",
    } <= set(rules)
    for name, block in rules.items():
        assert "log:" in block, name
        assert f'script:\n            "../../scripts/{name}.py"' in block or (
            f'"../../scripts/{name}.py"' in block
        ), name
        assert (SCRIPTS / f"{name}.py").is_file(), name


def test_one_schema_module_owns_the_tables():
    for path in SCRIPTS.glob("*.py"):
        text = path.read_text()
        assert "pa.schema(" not in text and "pq.write_table" not in text, path.name


def core_imports(path):
    """The core modules a file imports directly (``from panelmatch import x`` and the like)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "panelmatch":
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("panelmatch."):
            yield node.module.split(".")[1]
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            yield from ([node.module] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            yield from (
                a.name.split(".")[1] for a in node.names if a.name.startswith("panelmatch.")
            )


#: Core modules that cannot change a rule's output (the log format), so not tracked.
UNTRACKED = {"logs"}


def test_every_rule_lists_the_core_modules_its_script_uses():
    # an edit to a core module reruns exactly the rules whose scripts use it (directly or
    # through other core modules): each rule's lib(...) input must name all of them
    closure = {}
    for path in CORE.glob("*.py"):
        closure[path.stem] = {m for m in core_imports(path) if (CORE / f"{m}.py").is_file()}
    changed = True
    while changed:
        changed = False
        for name, deps in closure.items():
            grown = deps.union(*(closure[d] for d in deps))
            if grown != deps:
                closure[name], changed = grown, True
    checked, missing = 0, []
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for block in re.split(r"\n(?=\s*rule )", smk.read_text()):
            script = re.search(r'"\.\./\.\./scripts/(\w+)\.py"', block)
            if not re.match(r"\s*rule (\w+):", block) or not script:
                continue
            listed = {"tables"}
            for call in re.findall(r"lib\(([^)]*)\)", block):
                listed |= set(re.findall(r'"(\w+)"', call))
            direct = set(core_imports(SCRIPTS / f"{script.group(1)}.py"))
            used = direct.union(*(closure[m] for m in direct if m in closure))
            absent = sorted(used - listed - UNTRACKED)
            if absent:
                missing.append(f"{smk.name}: {script.group(1)}.py uses {absent}")
            checked += 1
    assert checked >= 10 and not missing, missing
