"""Tuning: previews of any moment with any options (``session``), parameter sets (``params``) and the
notebook's interface (``app``); the pictures are drawn by ``heygem_core.plots``."""
