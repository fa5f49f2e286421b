"""import_lean: one module of a package without the package's __init__, which still runs for any other use."""
import subprocess
import sys

import pytest


def run(code: str) -> None:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_phonetic_cues_skip_scipy_signal_init_which_still_works_for_others():
    run("""
import sys
import heygem_core.phonetic.cues as cues
assert not {"scipy.stats", "scipy.ndimage", "scipy.signal._signaltools"} & set(sys.modules)
import scipy.signal
from scipy.signal import upfirdn, find_peaks
assert upfirdn is cues.upfirdn
assert scipy.signal.windows.hann(4)[1] == 0.75 and find_peaks([0, 1, 0])[0][0] == 1
print("ok")
""")


def test_a_package_already_imported_is_used_as_it_is():
    run("""
import scipy.signal
from heygem_core.lean_import import import_lean
mod = import_lean("scipy.signal._signaltools", ("scipy.signal",))
import sys
assert sys.modules["scipy.signal"] is scipy.signal and mod.lfilter is scipy.signal.lfilter
print("ok")
""")


def test_submodules_of_a_deferred_package_import_without_its_init():
    run("""
import sys
from heygem_core.lean_import import import_lean
import_lean("scipy.signal._signaltools", ("scipy.signal",))
import scipy.signal
assert scipy.signal.windows.__name__ == "scipy.signal.windows"     # a submodule: imported on its own
assert "scipy.stats" not in sys.modules
assert scipy.signal.find_peaks                                      # any other name: the whole package
assert "scipy.stats" in sys.modules
print("ok")
""")
