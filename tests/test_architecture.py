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
    assert str(CORE / "matching.py") in closure_of("groups")
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


#: The core's modules by stage, in data-flow order: a module may import modules of its
#: own stage and of the stages before it, never of a later one (distances sit below
#: matching, matching below grouping, and the reports on top). ``settings``, ``tables``,
#: ``bits`` and ``logs`` are the foundation every stage uses; ``config`` checks the whole
#: configuration, so it sits on top with the command line.
STAGES = {
    "foundation": {"settings", "tables", "bits", "logs"},
    "input": {"chunks", "folder", "scrape", "frames"},
    "features": {
        "resampling",
        "edges",
        "hashes",
        "colour",
        "art",
        "textlines",
        "features",
        "embeddings",
    },
    "distances": {"metrics", "cosine", "comparison", "pairs", "local"},
    "matching": {"matching", "templates", "relation"},
    "grouping": {"grouping", "nearest", "linked", "embedding_groups"},
    "reports": {"evaluate", "summary", "gallery", "plots", "query"},
    "entry": {"config", "__main__", "__init__"},
}


def test_every_core_module_has_a_stage():
    staged = set().union(*STAGES.values())
    modules = {p.stem for p in CORE.glob("*.py")}
    assert modules == staged, (modules - staged, staged - modules)


def test_no_stage_imports_a_later_stage():
    order = {name: k for k, members in enumerate(STAGES.values()) for name in members}
    found = []
    for path in sorted(CORE.glob("*.py")):
        for package, name in package_imports(path):
            later = name in order and order[name] > order[path.stem]
            if package == "panelmatch" and name != "__init__" and later:
                found.append(f"{path.stem} ({order[path.stem]}) imports {name} ({order[name]})")
    assert found == []


#: Single-letter parameter names the core keeps, each for one meaning: the two frames or
#: images of pairs (a, b), their rows (i, j), a count of images (n) and neighbours.k (k).
PAIR_LETTERS = {"a", "b", "i", "j", "n", "k"}


def test_no_public_function_takes_a_single_letter_parameter_beyond_the_pair_letters():
    found = []
    for path in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                arguments = node.args.args + node.args.kwonlyargs
                bad = [a.arg for a in arguments if len(a.arg) == 1 and a.arg not in PAIR_LETTERS]
                if bad:
                    found.append(f"{path.name}:{node.lineno} {node.name}({', '.join(bad)})")
    assert found == []


def test_scripts_read_params_by_a_full_name():
    for path in SCRIPTS.glob("*.py"):
        assert not re.search(r"(^|, )p = snakemake|, p\b.* = snakemake", path.read_text(), re.M), (
            path.name
        )
        assert not re.search(r"\bp\.\w", path.read_text()), path.name


def test_every_script_names_its_inputs_and_outputs():
    for path in SCRIPTS.glob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert doc.startswith("Rule "), path.name
        assert re.search(r"^Inputs?:", doc, re.M) and re.search(r"^Outputs?:", doc, re.M), path.name


def leaf_keys():
    """The schema's leaf keys (the keys that hold a value, not a section)."""
    import yaml

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    sections = set(schema["properties"]) | {"site", "compare", "caps", "candidates"}
    return schema_keys() - sections


#: Default values that mean "off" (the feature unused), which a parameter may keep.
OFF = (None, False, (), "", [])


def test_no_core_parameter_named_like_a_configuration_key_has_a_default_of_its_own():
    """A function parameter or dataclass field of the core named like a key of the schema
    takes its value from the configuration: a default beside the schema's would drift
    from it (as frames.select once fell back to count=1 where the schema says 4). Only a
    default that turns the feature off is allowed."""
    keys = leaf_keys()
    found = []

    def check(path, where, name, value):
        if name in keys and value is not None:
            try:
                off = ast.literal_eval(value) in OFF
            except ValueError:
                off = False
            if not off:
                found.append(f"{path.name}:{where} {name}={ast.unparse(value)}")

    for path in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                positional = node.args.args[len(node.args.args) - len(node.args.defaults) :]
                for arg, value in zip(positional, node.args.defaults, strict=True):
                    check(path, node.name, arg.arg, value)
                for arg, value in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
                    check(path, node.name, arg.arg, value)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        check(path, node.name, item.target.id, item.value)
    assert found == []
