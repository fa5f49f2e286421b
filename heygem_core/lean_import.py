"""Importing one module of a large package without running the package's ``__init__``.

Some dependencies import their whole API on ``import package``: ``mediapipe`` every solution, the Tasks API
and matplotlib; ``scipy.signal`` its filter design, spectral analysis and ``scipy.stats``. The product needs
a module or two of each, and on a short clip those imports cost more CPU than the work. `import_lean`
registers the named packages with their ``__path__`` (so their submodules import as usual) but their
``__init__`` not yet run; the first lookup of a name such a package does not have yet, other than one of its
submodules, runs it then (a module ``__getattr__``, PEP 562), so the package behaves as usual for any other
code in the process.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType


def import_lean(name: str, skip: tuple[str, ...]) -> ModuleType:
    """``importlib.import_module(name)`` without running the ``__init__`` of the packages in ``skip`` (each
    a package above ``name``, outermost first) that are not imported yet."""
    for package in skip:
        if package not in sys.modules:
            parent = package.rpartition(".")[0]
            if parent:
                importlib.import_module(parent)
            _deferred_package(package)
    return importlib.import_module(name)


def _deferred_package(name: str) -> None:
    spec = importlib.util.find_spec(name)
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attr):
        if importlib.util.find_spec(f"{name}.{attr}") is not None:   # a submodule: import just that
            return importlib.import_module(f"{name}.{attr}")
        del module.__getattr__
        spec.loader.exec_module(module)
        return getattr(module, attr)

    module.__getattr__ = __getattr__
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
