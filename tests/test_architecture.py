"""The shape of the code (docs/architecture.md): every import points down a layer, or sideways within a
room or towards a room below it; no module imports its way into a circle; modules stay small.

Read from the source with `ast`, every import counted: at the top, inside a function, under
`TYPE_CHECKING`. A new module whose name the map below does not know fails here until it is placed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import booking

SOURCE = Path(booking.__file__).parent

VOCABULARY, ADAPTERS, TABLES, REPOSITORIES, SERVICES, ROUTES, WIRING = range(7)
LAYER_NAMES = ("vocabulary", "adapters", "tables", "repositories", "services", "routes", "wiring")

# The rooms, lowest first: a room may use what a lower room offers on its own layer (bookings asks
# availability's service what the rules judge), never the other way round. Modules outside them are the
# kernel, below every room.
ROOMS = (
    "notifications",
    "webhooks",
    "payments",
    "brands",
    "instructors",
    "availability",
    "bookings",
    "packages",
    "checkout",
    "privacy",
    "calendars",
    "web",
)
KERNEL = "kernel"

# The kernel's modules (outside the rooms), by layer.
KERNEL_LAYERS = {
    "booking": VOCABULARY,
    "booking.enums": VOCABULARY,
    "booking.types": VOCABULARY,
    "booking.clock": VOCABULARY,
    "booking.config": VOCABULARY,
    "booking.errors": VOCABULARY,
    "booking.i18n": VOCABULARY,
    "booking.db": ADAPTERS,
    "booking.sqlite_driver": ADAPTERS,
    "booking.driver": ADAPTERS,
    "booking.auth": ADAPTERS,
    "booking.outbound": ADAPTERS,
    "booking.metrics": ADAPTERS,
    "booking.http": ADAPTERS,
    "booking.worker": ADAPTERS,
    "booking.models": TABLES,
    "booking.models.base": TABLES,
    "booking.models.events": TABLES,
    "booking.models.audit": TABLES,
    "booking.metrics_repository": REPOSITORIES,
    "booking.unit_of_work": SERVICES,
    "booking.events": SERVICES,
    "booking.audit": SERVICES,
    "booking.access": SERVICES,
    "booking.context": ROUTES,
    "booking.deps": ROUTES,
    "booking.openapi": ROUTES,
    "booking.app": WIRING,
    "booking.api_docs": WIRING,
    "booking.cli": WIRING,
    "booking.demo": WIRING,
    "booking.jobs": WIRING,
    "booking.hot_paths": WIRING,
    "booking.metrics_endpoint": WIRING,
    "booking.migrate": WIRING,
    "booking.models.schema": WIRING,  # every table on one metadata, for the migrations
}
KERNEL_PACKAGES = {"scheduling": VOCABULARY, "migrations": WIRING}  # pure time rules; the schema history

# A room's modules, by the last part of their name.
ROOM_LAYERS = {
    "__init__": VOCABULARY,
    "errors": VOCABULARY,
    "parsing": VOCABULARY,
    "ics": VOCABULARY,
    "results": VOCABULARY,
    "signature": VOCABULARY,
    "assets": VOCABULARY,
    "texts": VOCABULARY,
    "providers": ADAPTERS,
    "notifier": ADAPTERS,
    "schemas": TABLES,
    "facts": TABLES,
    "repository": REPOSITORIES,
    "outbox": REPOSITORIES,
    "service": SERVICES,
    "events": SERVICES,
    "holds": SERVICES,
    "idempotency": SERVICES,
    "lifecycle": SERVICES,
    "policy": SERVICES,
    "render": SERVICES,
    "reschedule": SERVICES,
    "reads": SERVICES,
    "prices": SERVICES,
    "payments": SERVICES,
    "creation": SERVICES,
    "series": SERVICES,
    "passes": SERVICES,
    "programs": SERVICES,
    "explain": SERVICES,
    "export": SERVICES,
    "insights": SERVICES,
    "activity": SERVICES,
    "erasure": SERVICES,
    "console": SERVICES,
    "outcomes": SERVICES,
    "webhook": SERVICES,
    "reminders": SERVICES,
    "messages": SERVICES,
    "effects": SERVICES,
    "jobs": SERVICES,
    "delivery": SERVICES,
    "sync": SERVICES,
    "page": SERVICES,
    "routes": ROUTES,
}
MAX_LINES = 400
SMALLER = {"booking.bookings.service": 300}


@dataclass(frozen=True)
class Place:
    layer: int
    room: str

    @property
    def rank(self) -> int:
        return 0 if self.room == KERNEL else ROOMS.index(self.room) + 1

    def __str__(self) -> str:
        return f"{LAYER_NAMES[self.layer]} of {self.room}"


def place_of(module: str) -> Place:
    if module in KERNEL_LAYERS:
        return Place(KERNEL_LAYERS[module], KERNEL)
    parts = module.split(".")
    if parts[1] == "models":  # the tables of one room
        assert parts[2] in ROOMS, f"{module}: tables of no room"
        return Place(TABLES, parts[2])
    if parts[1] in KERNEL_PACKAGES:
        return Place(KERNEL_PACKAGES[parts[1]], KERNEL)
    assert parts[1] in ROOMS, f"{module} is in no layer: place it in tests/test_architecture.py"
    name = parts[-1] if len(parts) > 2 else "__init__"
    if name.endswith("_repository"):  # a room's second repository (availability's schedule edits)
        name = "repository"
    assert name in ROOM_LAYERS, f"{module} is in no layer: place it in tests/test_architecture.py"
    return Place(ROOM_LAYERS[name], parts[1])


def allowed(source: Place, target: Place) -> bool:
    """Down a layer, or on the same layer within the room or towards a lower room (or the kernel)."""
    if target.layer != source.layer:
        return target.layer < source.layer
    return target.room == source.room or target.rank < source.rank


def modules() -> dict[str, Path]:
    found = {}
    for path in SOURCE.rglob("*.py"):
        parts = ("booking", *path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Every `booking` module imported anywhere in the file, with the line that imports it."""
    yield from imports_in(module, path.read_text(), path.name == "__init__.py", known)


def imports_in(
    module: str, source: str, is_package: bool, known: dict[str, Path]
) -> Iterator[tuple[str, int]]:
    """What `import`, `from … import` (relative too) and `importlib.import_module("booking…")` or
    `__import__("booking…")` name, each resolved to the deepest module that exists."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        elif isinstance(node, ast.Call) and _imports_by_name(node):
            named = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
            names = [named] if isinstance(named, str) else []
        else:
            continue
        for name in names:
            while name not in known and "." in name:
                name = name.rpartition(".")[0]
            if name in known and name != module and name.startswith("booking"):
                yield name, node.lineno


def _imports_by_name(call: ast.Call) -> bool:
    function = call.func
    called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return called in {"import_module", "__import__"} and bool(call.args)


def graph() -> dict[str, dict[str, int]]:
    known = modules()
    return {module: dict(imports_of(module, path, known)) for module, path in known.items()}


def upward_imports(edges: dict[str, dict[str, int]]) -> list[str]:
    wrong = []
    for module, targets in sorted(edges.items()):
        for target, line in sorted(targets.items()):
            source, place = place_of(module), place_of(target)
            if not allowed(source, place):
                wrong.append(f"{module}:{line} imports {target} ({source} -> {place})")
    return wrong


def circles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_every_import_points_down_or_sideways_within_a_room() -> None:
    assert upward_imports(graph()) == []


def test_no_module_imports_its_way_into_a_circle() -> None:
    assert circles(graph()) == []


def test_the_worker_the_unit_of_work_and_notifications_know_no_feature() -> None:
    edges = graph()
    features = set(ROOMS) - {"notifications"}
    for module in ("booking.worker", "booking.unit_of_work", "booking.events"):
        assert {place_of(target).room for target in edges[module]} <= {KERNEL}, module
    for module, targets in edges.items():
        if module.startswith("booking.notifications"):
            rooms = {place_of(target).room for target in targets}
            assert not rooms & features, f"{module} imports a feature room: {rooms & features}"


def test_the_check_catches_an_upward_import() -> None:
    """The guard itself: a planted arrow from a repository up to a route is reported, and a circle is."""
    edges = graph()
    edges["booking.bookings.repository"] = {
        **edges["booking.bookings.repository"],
        "booking.bookings.routes": 1,
    }
    assert upward_imports(edges) == [
        "booking.bookings.repository:1 imports booking.bookings.routes "
        "(repositories of bookings -> routes of bookings)"
    ]
    assert ["booking.bookings.repository", "booking.bookings.routes"] in [
        [module for module in group if module in {"booking.bookings.repository", "booking.bookings.routes"}]
        for group in circles(edges)
    ]


def test_every_kind_of_import_is_read() -> None:
    """Relative, aliased, by name, inside a function, under TYPE_CHECKING: none hides an arrow."""
    source = """
import importlib
from typing import TYPE_CHECKING
from .routes import router
import booking.app as application
if TYPE_CHECKING:
    from booking.deps import Context
def later() -> None:
    from ..hot_paths import HotPaths
    importlib.import_module("booking.cli")
"""
    found = {name for name, _ in imports_in("booking.bookings.repository", source, False, modules())}
    assert found == {
        "booking.bookings.routes",
        "booking.app",
        "booking.deps",
        "booking.hot_paths",
        "booking.cli",
    }


@pytest.mark.parametrize(
    ("source", "target", "ok"),
    [
        ("booking.bookings.service", "booking.availability.service", True),  # a lower room, same layer
        ("booking.availability.service", "booking.bookings.service", False),  # a higher room
        ("booking.notifications.service", "booking.unit_of_work", True),  # the kernel
        ("booking.unit_of_work", "booking.notifications.effects", False),  # the kernel knows no room
        ("booking.worker", "booking.webhooks.delivery", False),  # adapters know no service
        ("booking.bookings.repository", "booking.models.brands", True),  # tables are below
    ],
)
def test_the_rule_between_two_places(source: str, target: str, ok: bool) -> None:
    assert allowed(place_of(source), place_of(target)) is ok


def test_modules_stay_small() -> None:
    too_long = {}
    for module, path in modules().items():
        lines = len(path.read_text().splitlines())
        if lines >= SMALLER.get(module, MAX_LINES + 1):
            too_long[module] = lines
    assert too_long == {}
