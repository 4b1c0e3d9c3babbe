"""Write the Makefile's include naming what each stage reads: the modules its command reaches, and its parameter files.

Run by make before anything else (`python3 tools/stage_deps.py .make/deps.mk`); the file is rewritten only when
its content changes, so make rereads it only then. Standard library only: it runs before the environment exists.

How a stage's modules are found, without running anything: start from the stage's command in pipeline/cli.py
(its decorators and body), follow every name it uses to where that name is defined, in whichever project module,
and from there every name that definition uses, and so on. A module counts once any of its names is reached;
its import-time code (module-level statements, decorators, default values, class bodies) is then followed too,
because importing the module runs it. Function bodies are followed only when the function is reached, so a lazy
import inside a function that the stage never calls does not make the stage depend on that module. Names of
config's parameter groups (config.TRAIN, ...) that are reached name the stage's parameter files.
"""

from __future__ import annotations

import ast
import sys
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


class Module:
    """One parsed project module: its top-level definitions, the names it imports, and its import-time code."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = module_file(name)
        self.tree = ast.parse(self.path.read_text(encoding="utf-8"), filename=str(self.path))
        self.definitions: dict[str, list[ast.AST]] = {}
        # Local name -> (project module, attribute or None for the module itself).
        self.imports: dict[str, tuple[str, str | None]] = {}
        for statement in self.tree.body:
            for target in bound_names(statement):
                self.definitions.setdefault(target, []).append(statement)
            self.imports.update(imported_names(statement, name))


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

    def module(self, name: str) -> Module:
        if name not in self.modules:
            self.modules[name] = Module(name)
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
                nodes = module.definitions.get(attribute, [])
                pending.append((current, None))
            for node in nodes:
                pending.extend(references(node, module))


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
    for statement in Module(COMMANDS).tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == command:
            return statement
    raise SystemExit(f"{COMMANDS} has no command function {command!r}")


def stage_inputs(command: str) -> tuple[list[str], set[str]]:
    """The files of the modules a stage's command reaches, and the config names it uses."""
    reach = Reach()
    reach.add(ENTRY, None)
    reach.add(COMMANDS, None)
    for item in references(command_node(command), reach.module(COMMANDS)):
        reach.add(*item)
    files = sorted(str(module.path.relative_to(ROOT)) for module in reach.modules.values())
    return files, reach.config_names


def parameter_files(config_names: set[str]) -> list[str]:
    """The parameter files of the config groups a stage uses (config.TRAIN -> params/train.toml)."""
    sys.path.insert(0, str(ROOT))
    from pipeline import config  # stdlib only, and no side effects on import

    return sorted(
        str(config.params_path(name).relative_to(ROOT)) for name in config_names if name in config.PARAM_GROUPS
    )


def render() -> str:
    lines = [f"# Written by {Path(__file__).relative_to(ROOT)}: do not edit. What each stage reads besides its data."]
    for stage, command in STAGES.items():
        files, names = stage_inputs(command)
        lines.append(f"{stage}_CODE := {' '.join(files)}")
        lines.append(f"{stage}_PARAMS := {' '.join(parameter_files(names))}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if len(argv) < 2:
        sys.stdout.write(text)
        return 0
    target = Path(argv[1])
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return 0  # unchanged: keep the file's time, so make does not reread its makefiles
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
