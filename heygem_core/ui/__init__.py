"""The dashboard's widgets and layout, in Chinese and English, over a workspace and its worker.

    from heygem_core.ui import app
    app()                      # what dashboards/heygem.ipynb runs under Voilà

`Dashboard(root, lang=...)` is the same page as an object (its ``widget`` is what gets displayed).
"""
from __future__ import annotations


def app(*args, **kwargs) -> None:
    from .app import app as _app

    _app(*args, **kwargs)


def __getattr__(name: str):
    if name == "Dashboard":
        from .app import Dashboard

        return Dashboard
    raise AttributeError(name)


__all__ = ["app", "Dashboard"]
