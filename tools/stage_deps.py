"""Write the Makefile's include naming what each stage reads: the modules its command reaches, and its parameters.

Run by make before anything else (`python3 tools/stage_deps.py .make/deps.mk`). It writes .make/deps.mk, which
sets PREPARE_CODE, PREPARE_PARAMS, TRAIN_CODE... and .make/<stage>.params, the values in force of exactly the
parameters the stage reads; each file is rewritten only when its content changes, so make rereads the include,
or reruns a stage, only then. Standard library only: it runs before the environment exists.

How a stage's modules are found, without running anything: start from the stage's command in pipeline/cli.py
(its decorators and body), follow every name it uses to where that name is defined, in whichever project module,
and from there every name that definition uses, and so on. A module counts once one of its definitions is
reached (the package, the console script's module and the commands' module always count). The import-time code
of every module imported on the way (module-level statements, decorators, default values, class bodies) is
followed too, because importing the module runs it. Function bodies are followed only when the function is
reached, so a lazy import inside a function the stage never calls does not make the stage depend on that module.
Reads of config's parameter groups in the code followed (config.TRAIN.C, params.C of `params: TrainParams`)
name the parameters; see parameter_keys.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "pipeline"
COMMANDS = f"{PACKAGE}.cli"
# The console script's module: every stage starts there (pyproject.toml's [project.scripts]).
ENTRY = f"{PACKAGE}.process"
# Stage name in the Makefile -> the command of pipeline/cli.py that runs it.
STAGES = {"PREPARE": "prepare", "TRAIN": "train", "REPORT": "report", "EXPORT": "export"}


def module_file(module: str) -> Path:
    parts = module.split(".")
    package = ROOT.joinpath(*parts, "__init__.py")
    return package if package.is_file() else ROOT.joinpath(*parts[:-1], parts[-1] + ".py")


def project_module(name: str | None) -> bool:
    return bool(name) and (name == PACKAGE or name.startswith(PACKAGE + ".")) and module_file(name).is_file()


@functools.cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


class Module:
    """One parsed project module: its top-level definitions, the names it imports, and its import-time code."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = module_file(name)
        self.tree = parse(self.path)
        self.definitions: dict[str, list[ast.AST]] = {}
        # Local name -> (project module, attribute or None for the module itself).
        self.imports: dict[str, tuple[str, str | None]] = {}
        for statement in self.tree.body:
            for target in bound_names(statement):
                self.definitions.setdefault(target, []).append(statement)
            self.imports.update(imported_names(statement, name))


@functools.cache
def load_module(name: str) -> Module:
    return Module(name)


@functools.cache
def parents_of(module: Module) -> dict[ast.AST, ast.AST]:
    """Each node of a module's tree -> the node that holds it."""
    return {child: parent for parent in ast.walk(module.tree) for child in ast.iter_child_nodes(parent)}


def bound_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [statement.name]
    if isinstance(statement, ast.Assign):
        return [n.id for t in statement.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(statement, ast.AnnAssign | ast.AugAssign) and isinstance(statement.target, ast.Name):
        return [statement.target.id]
    return []


def imported_names(node: ast.AST, current: str) -> dict[str, tuple[str, str | None]]:
    """What an import statement binds, for the project's modules only."""
    found: dict[str, tuple[str, str | None]] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if project_module(alias.name):
                # `import pipeline.x` binds `pipeline`; `import pipeline.x as y` binds the module itself.
                found[alias.asname or alias.name.split(".")[0]] = (alias.name if alias.asname else PACKAGE, None)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            base = ".".join(current.split(".")[: -node.level] + ([base] if base else []))
        if project_module(base):
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                target = (submodule, None) if project_module(submodule) else (base, alias.name)
                found[alias.asname or alias.name] = target
    return found


def import_time_nodes(module: Module) -> list[ast.AST]:
    """The parts of a module that run when it is imported: everything but the bodies of its functions."""
    nodes: list[ast.AST] = []

    def visit(statement: ast.stmt) -> None:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            nodes.extend(statement.decorator_list)
            nodes.extend(d for d in statement.args.defaults + statement.args.kw_defaults if d is not None)
        elif isinstance(statement, ast.ClassDef):
            nodes.extend(statement.decorator_list + statement.bases + [k.value for k in statement.keywords])
            for inner in statement.body:
                visit(inner)
        else:
            nodes.append(statement)

    for statement in module.tree.body:
        visit(statement)
    return nodes


class Reach:
    """The project modules and config names reached from some starting definitions."""

    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}
        self.seen: set[tuple[str, str | None]] = set()
        self.config_names: set[str] = set()
        # The modules whose code the stage runs: one of their definitions is reached. A module only imported
        # on the way runs nothing but its definitions, which are followed for what they read at import time.
        self.used: set[str] = {PACKAGE, ENTRY, COMMANDS}
        # Every piece of code followed, with its module: what the parameter analysis reads.
        self.followed: list[tuple[ast.AST, Module]] = []

    def module(self, name: str) -> Module:
        if name not in self.modules:
            self.modules[name] = load_module(name)
        return self.modules[name]

    def add(self, module_name: str, name: str | None) -> None:
        pending = [(module_name, name)]
        while pending:
            item = pending.pop()
            if item in self.seen:
                continue
            self.seen.add(item)
            current, attribute = item
            # Importing pipeline.x first imports pipeline (its __init__), then pipeline.x's own import-time code.
            parent = current.rpartition(".")[0]
            if parent:
                pending.append((parent, None))
            module = self.module(current)
            if attribute is None:
                nodes = import_time_nodes(module)
            elif attribute in module.imports:
                pending.append(module.imports[attribute])
                continue
            else:
                if current == f"{PACKAGE}.config":
                    self.config_names.add(attribute)
                if attribute in module.definitions or current == f"{PACKAGE}.config":
                    self.used.add(current)
                # A name a module does not define comes from its __getattr__ (config.TRAIN), when it has one.
                nodes = module.definitions.get(attribute) or module.definitions.get("__getattr__", [])
                pending.append((current, None))
            for node in nodes:
                self.followed.append((node, module))
                pending.extend(references(node, module))


@functools.cache
def references(node: ast.AST, module: Module) -> list[tuple[str, str | None]]:
    """The (module, name) pairs a piece of code uses: names of its module, imported names, `alias.attribute`."""
    local = dict(module.imports)
    found: list[tuple[str, str | None]] = []
    for inner in ast.walk(node):
        if isinstance(inner, ast.Import | ast.ImportFrom):
            bound = imported_names(inner, module.name)
            local.update(bound)
            # An import runs the imported module's import-time code, whether or not a name of it is used.
            found.extend((target, None) for target, _ in bound.values())
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) and inner.value.id in local:
            target, attribute = local[inner.value.id]
            if attribute is None:
                found.append((target, inner.attr))
        if isinstance(inner, ast.Name):
            if inner.id in local:
                found.append(local[inner.id])
            elif inner.id in module.definitions:
                found.append((module.name, inner.id))
    return found


def command_node(command: str) -> ast.AST:
    for statement in load_module(COMMANDS).tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == command:
            return statement
    raise SystemExit(f"{COMMANDS} has no command function {command!r}")


def stage_inputs(command: str) -> tuple[list[str], dict[str, set[str] | None]]:
    """The files of the modules a stage's command reaches, and the parameters it reads (see parameter_keys)."""
    reach = Reach()
    reach.add(ENTRY, None)
    reach.add(COMMANDS, None)
    command_module = reach.module(COMMANDS)
    node = command_node(command)
    reach.followed.append((node, command_module))
    for item in references(node, command_module):
        reach.add(*item)
    files = sorted(str(reach.modules[name].path.relative_to(ROOT)) for name in reach.used)
    return files, parameter_keys(reach.followed)


@functools.cache
def parameter_groups() -> dict[str, type]:
    """config.PARAM_GROUPS: group name (TRAIN) -> its dataclass."""
    from pipeline import config  # standard library only, and no side effects on import

    return config.PARAM_GROUPS


def parameter_keys(followed: list[tuple[ast.AST, Module]]) -> dict[str, set[str] | None]:
    """The parameters the followed code reads: group -> the names of its fields, or None for all of them.

    `config.TRAIN.C` reads C; a name annotated with a group's class (`params: config.TrainParams`) reads the
    fields taken from it; any other use of the group (passed on whole, asdict) reads all of them. A group
    instance as a default value reads nothing by itself: the function reads what it takes from its parameter.
    """
    keys: dict[str, set[str] | None] = {}
    for node, module in followed:
        if id(node) in default_ids(module):
            continue  # a default value is read when its function runs: followed with the function, if reached
        for group, key in parameter_reads(node, module):
            if key is None or keys.get(group, set()) is None:
                keys[group] = None
            else:
                keys.setdefault(group, set()).add(key)
    return keys


@functools.cache
def default_ids(module: Module) -> frozenset[int]:
    """The default values of every function of a module (followed on their own at import time, too)."""
    return frozenset(
        id(default)
        for function in ast.walk(module.tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for default in function.args.defaults + function.args.kw_defaults
        if default is not None
    )


@functools.cache
def parameter_reads(node: ast.AST, module: Module) -> tuple[tuple[str, str | None], ...]:
    """(group, field or None for all) for every read of a parameter group in a piece of code."""
    groups = parameter_groups()
    class_groups = {cls.__name__: name for name, cls in groups.items()}
    config_names = {n for n, (target, attr) in module.imports.items() if target == f"{PACKAGE}.config" and not attr}
    parents = parents_of(module)
    reads = []
    for inner in ast.walk(node):
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = inner.args.posonlyargs + inner.args.args + inner.args.kwonlyargs
            annotated = {a.arg: class_groups.get(annotation_class(a.annotation)) for a in arguments}
            annotated = {name: group for name, group in annotated.items() if group}
            if annotated:
                for use in ast.walk(inner):
                    if isinstance(use, ast.Name) and use.id in annotated and isinstance(use.ctx, ast.Load):
                        reads.append((annotated[use.id], attribute_of(use, parents)))
        if (
            isinstance(inner, ast.Attribute)
            and inner.attr in groups
            and isinstance(inner.value, ast.Name)
            and inner.value.id in config_names
            and id(inner) not in default_ids(module)
        ):
            reads.append((inner.attr, attribute_of(inner, parents)))
    return tuple(reads)


def annotation_class(annotation: ast.AST | None) -> str | None:
    """The class an annotation names: config.TrainParams -> TrainParams."""
    if isinstance(annotation, ast.Attribute):
        return annotation.attr
    if isinstance(annotation, ast.Name):
        return annotation.id
    return None


def attribute_of(node: ast.AST, parents: dict) -> str | None:
    """`x.attr` -> attr when `node` is x; None when the object is used otherwise."""
    parent = parents.get(node)
    return parent.attr if isinstance(parent, ast.Attribute) and parent.value is node else None


def render(inputs: dict[str, tuple[list[str], dict]]) -> str:
    lines = [f"# Written by {Path(__file__).relative_to(ROOT)}: do not edit. What each stage reads besides its data."]
    for stage, (files, _) in inputs.items():
        lines.append(f"{stage}_CODE := {' '.join(files)}")
        lines.append(f"{stage}_PARAMS := {values_path(stage).relative_to(ROOT)}")
    return "\n".join(lines) + "\n"


def values_path(stage: str) -> Path:
    return ROOT / ".make" / f"{stage.lower()}.params"


def stage_values(keys: dict[str, set[str] | None]) -> str:
    """The values in force of exactly the parameters a stage reads, from the declarations and params/*.toml."""
    from pipeline import config

    values = {}
    for group in sorted(keys):
        in_force = asdict(getattr(config, group))
        values[group] = {k: v for k, v in in_force.items() if keys[group] is None or k in keys[group]}
    return json.dumps(values, indent=1, sort_keys=True) + "\n"


def write_if_changed(target: Path, text: str) -> None:
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return  # unchanged: keep the file's time, so make neither rereads it nor reruns what depends on it
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)


def analysed_inputs(cache: Path | None) -> dict[str, tuple[list[str], dict[str, set[str] | None]]]:
    """Every stage's modules and parameters; reused from `cache` while no module of the package (nor this tool)
    has changed, so that a make run whose code has not changed only reads the parameter files."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(ROOT.joinpath(PACKAGE).glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    if cache is not None and cache.is_file():
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("digest") == digest.hexdigest():
            return {
                stage: (files, {g: None if k is None else set(k) for g, k in keys.items()})
                for stage, (files, keys) in stored["stages"].items()
            }
    inputs = {stage: stage_inputs(command) for stage, command in STAGES.items()}
    if cache is not None:
        stages = {
            stage: (files, {g: None if k is None else sorted(k) for g, k in keys.items()})
            for stage, (files, keys) in inputs.items()
        }
        write_if_changed(cache, json.dumps({"digest": digest.hexdigest(), "stages": stages}, indent=1) + "\n")
    return inputs


def refuse_options(argv: list[str], doc: str) -> int | None:
    """The exit code for an option: --help prints the tool's docstring; any other is refused. Make passes a path,
    never an option, and a path read from `--help` wrote a file of that name."""
    if len(argv) < 2 or not argv[1].startswith("-"):
        return None
    if argv[1] in ("-h", "--help"):
        print(doc)
        return 0
    print(f"Error: no such option: {argv[1]}; the one argument is the path of the file to write", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    """Print the include, or write it (argument: its path) and each stage's parameter values beside it."""
    if (code := refuse_options(argv, __doc__)) is not None:
        return code
    sys.path.insert(0, str(ROOT))
    from pipeline.errors import BpoKpoError

    try:
        inputs = analysed_inputs(Path(argv[1]).with_suffix(".analysis.json") if len(argv) > 1 else None)
        text = render(inputs)
        if len(argv) < 2:
            sys.stdout.write(text)
            return 0
        for stage, (_, keys) in inputs.items():
            write_if_changed(values_path(stage), stage_values(keys))
        write_if_changed(Path(argv[1]), text)
    except BpoKpoError as error:  # a parameter file that does not parse: one line naming it and the fix
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
