"""Check the floors of ../shared/DESIGN.md: imports only go down, Streamlit only in the UI, no kind name outside
the models.

    python scripts/check_layering.py          prints every broken rule, exits 1 if there is one

The floors, bottom to top:
    foundation   genlab/{__init__,data,user_data,checkpoints,classroom,images,line_chart,device}.py: knows no model
    models       genlab/models/
    uses         genlab/{training,evaluation,explore,playground}/: each may use models and the foundation,
                 never a sibling floor
    ui           genlab/ui/: the only Streamlit-aware code in the package
    pages        app.py, views/ (Streamlit), genlab/__main__.py (the CLI, no Streamlit)

A kind name (the `name` of a registered ModelKind, such as the one checkpoints store) may appear as a string
only inside genlab/models/. Outside it, code imports only the registry and the modules every kind shares
(MODEL_MODULES_FOR_ALL), never one family's file. Tests and benchmarks measure particular models and are not
checked.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOUNDATION = {"genlab", "genlab.data", "genlab.user_data", "genlab.checkpoints", "genlab.classroom", "genlab.images",
              "genlab.line_chart", "genlab.device"}
USES = ("training", "evaluation", "explore", "playground")
LEVEL = {"foundation": 0, "models": 1, "uses": 2, "ui": 3, "pages": 4}
STREAMLIT_GROUPS = {"ui", "pages"}  # the CLI sits on the top floor too, but prints instead
MODEL_MODULES_FOR_ALL = {  # what code outside genlab/models may import from it
    "genlab.models", "genlab.models.base", "genlab.models.loading", "genlab.models.autoregressive",
    "genlab.models.autoregressive.sampling", "genlab.models.autoregressive.receptive_field",
    "genlab.models.autoregressive.parameter_counts",
}


@dataclass(frozen=True)
class Place:
    floor: str  # foundation, models, uses, ui or pages
    group: str  # the subpackage within a floor ("training", ...), else the floor


def place_of_module(module: str) -> Place | None:
    """Where a genlab module lives; None for modules outside genlab."""
    if module in FOUNDATION:
        return Place("foundation", "foundation")
    parts = module.split(".")
    if parts[0] != "genlab" or len(parts) < 2:
        return None
    if parts[1] == "models":
        return Place("models", "models")
    if parts[1] in USES:
        return Place("uses", parts[1])
    if parts[1] == "ui":
        return Place("ui", "ui")
    if parts[1] == "__main__":
        return Place("pages", "cli")
    return Place("foundation", "foundation")  # a new top-level module counts as foundation until it is placed


def place_of_file(path: Path) -> Place | None:
    rel = path.resolve().relative_to(ROOT)
    if rel.parts[0] == "views" or rel == Path("app.py"):
        return Place("pages", "pages")
    if rel.parts[0] != "genlab":
        return None
    return place_of_module(module_of_file(rel))


def module_of_file(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(tree: ast.AST, this_module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every import, relative imports resolved against `this_module`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = this_module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # "from genlab.models import vae" imports the module genlab.models.vae
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _is_module(name: str) -> bool:
    """True for a module or package of the tree ("from genlab.models import LATENT" names a constant)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def kind_names() -> set[str]:
    sys.path.insert(0, str(ROOT))
    from genlab.models import KINDS

    return set(KINDS)


def check_file(path: Path, kinds: set[str], rel: Path | None = None) -> list[str]:
    """Every rule `path` breaks, one sentence each. `rel` says where the file stands in the tree (for tests)."""
    rel = rel or path.resolve().relative_to(ROOT)
    place = place_of_file(ROOT / rel)
    if place is None:
        return []
    source = path.read_text()
    tree = ast.parse(source, filename=str(rel))
    this_module = module_of_file(rel) if rel.parts[0] == "genlab" else ""
    problems = []
    in_models = rel.parts[:2] == ("genlab", "models")
    for line, module in imported_modules(tree, this_module, rel.name == "__init__.py"):
        where = f"{rel}:{line}"
        if module.split(".")[0] == "streamlit" and place.group not in STREAMLIT_GROUPS:
            problems.append(f"{where}: imports Streamlit outside genlab/ui and views/")
        target = place_of_module(module)
        if target is None or module == this_module:
            continue
        if LEVEL[target.floor] > LEVEL[place.floor]:
            problems.append(f"{where}: imports {module} from a higher floor ({target.floor} above {place.floor})")
        elif target.floor == "uses" and place.floor == "uses" and target.group != place.group:
            problems.append(f"{where}: imports {module} from the sibling floor genlab/{target.group}")
        if not in_models and target.floor == "models" and module not in MODEL_MODULES_FOR_ALL \
                and _is_module(module):
            problems.append(f"{where}: imports the family module {module} outside genlab/models (ask the registry)")
    if not in_models:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in kinds:
                problems.append(f"{rel}:{node.lineno}: names the model kind {node.value!r} outside genlab/models")
    return problems


def import_cycles(files: list[Path]) -> list[str]:
    """Import circles between genlab modules (module-level imports only; a function may import lazily)."""
    graph: dict[str, set[str]] = {}
    for path in files:
        rel = path.relative_to(ROOT)
        if rel.parts[0] != "genlab":
            continue
        module = module_of_file(rel)
        tree = ast.parse(path.read_text())
        top = ast.Module(body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))],
                         type_ignores=[])
        deps = {m for _, m in imported_modules(top, module, rel.name == "__init__.py")}
        graph[module] = {d for d in deps if d.startswith("genlab") and d != module}
    known = set(graph)
    graph = {m: {d for d in deps if d in known} for m, deps in graph.items()}
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for dep in sorted(graph[node]):
            # a package's __init__ importing its own submodules is how registries work, not a circle
            if dep.startswith(node + ".") or node.startswith(dep + "."):
                continue
            if state.get(dep) == "open":
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return [f"import circle: {c}" for c in cycles]


def project_files() -> list[Path]:
    return sorted([ROOT / "app.py", *(ROOT / "views").glob("*.py"), *(ROOT / "genlab").rglob("*.py")])


def check_tree() -> list[str]:
    kinds = kind_names()
    files = project_files()
    problems = [p for path in files for p in check_file(path, kinds)]
    return problems + import_cycles(files)


def main() -> int:
    problems = check_tree()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} broken rule(s) in {len(project_files())} files")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
