"""The layers point one way: rules -> scripts -> core; scripts never import each other and
the core never imports snakemake. Every rule has a log, and a script named after it."""

import ast
import os
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


def test_core_never_imports_snakemake_nor_the_demo():
    for path in CORE.glob("*.py"):
        bad = [m for m in imported_modules(path) if m.split(".")[0] in ("snakemake", "democomic")]
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
        "distances",
        "groups",
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


def package_imports(path):
    """The (package, module) pairs of the packages beside the scripts that a file imports
    directly (``from panelmatch import x``, ``import democomic`` and the like)."""
    package = path.parent.name if path.parent.name in PACKAGES else None
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top, *rest = node.module.split(".")
            if top in PACKAGES:
                yield (top, "__init__")
                yield from ([(top, rest[0])] if rest else [(top, a.name) for a in node.names])
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and package:
            yield from ((package, node.module or a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top, *rest = alias.name.split(".")
                if top in PACKAGES:
                    yield (top, rest[0] if rest else "__init__")


#: The packages beside the scripts (the core library and the demo generator).
PACKAGES = ("panelmatch", "democomic")


def closure_of(script):
    """Every module file of PACKAGES that scripts/<script>.py needs, directly or not."""
    seen, todo = set(), [SCRIPTS / f"{script}.py"]
    while todo:
        for package, name in package_imports(todo.pop()):
            path = SCRIPTS / package / f"{name}.py"
            if path.is_file() and path not in seen:
                seen.add(path)
                todo.append(path)
    return sorted(str(p) for p in seen)


def test_every_rule_depends_on_the_modules_its_script_uses():
    # an edit to a core module reruns exactly the rules whose scripts use it (directly or
    # through other core modules): each rule's code input is core_of(<its script>), and
    # core_of finds what an independent reading of the imports finds
    common = (REPO / "workflow/rules/common.smk").read_text()
    source = common[
        common.index("#: The packages beside the scripts") : common.index("def config_error")
    ]
    space = {"os": os, "SCRIPTS": str(SCRIPTS)}
    exec(source, space)  # noqa: S102 - the workflow's own helper, read from its file
    checked = 0
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for block in re.split(r"\n(?=\s*rule )", smk.read_text()):
            script = re.search(r'"\.\./\.\./scripts/(\w+)\.py"', block)
            if not re.match(r"\s*rule (\w+):", block) or not script:
                continue
            name = script.group(1)
            assert f'core_of("{name}")' in block, f"{smk.name}: rule of {name}.py"
            assert space["core_of"](name) == closure_of(name), name
            checked += 1
    assert checked >= 15
    assert str(CORE / "rule.py") in closure_of("groups")
    assert str(SCRIPTS / "democomic" / "lettering.py") in closure_of("demo_site")


def schema_keys():
    """Every key name of the configuration schema (sections and leaves)."""
    import yaml

    names = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.get("properties", {}).items():
                names.add(key)
                walk(value)
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text()))
    return names


def test_no_configuration_default_lives_in_the_core():
    """A configuration key read with a fallback value (``settings.get("count", 1)``) is a
    second default beside the schema's, and the two drift apart: the core reads every key
    it needs by its name (a missing key is a KeyError), or with ``.get(key)`` where None
    means "off"."""
    keys = schema_keys()
    found = []
    for path in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "setdefault", "pop")
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in keys
                and not (isinstance(node.args[1], ast.Constant) and node.args[1].value is None)
            ):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert found == []
