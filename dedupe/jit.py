"""Loops compiled to machine code by numba, at the first call of any of a module's kernels.

Signing and alignment walk arrays of a few hundred values in loops that numpy runs only as dozens of calls per
text or pair, each costing more than the work it does. numba compiles such a loop once (and caches the machine
code on disk, ``cache=True``); importing numba costs a third of a second, so it is imported only when a
process first runs a kernel, and commands that never group (``syndtrace --help``, a crawl) do not pay it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

_waiting: dict[str, list[str]] = {}   # module → names of its kernels not compiled yet


def kernel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a module-level function written in numba's subset of Python as a kernel. Its first call compiles
    every kernel of its module (kernels call one another through the module's names, which then name the
    compiled functions)."""
    _waiting.setdefault(fn.__module__, []).append(fn.__name__)
    compiled: list[Callable[..., Any]] = []

    @functools.wraps(fn)
    def first_call(*args: Any) -> Any:
        if not compiled:
            compiled.append(getattr(_compile_module(fn.__module__), fn.__name__))
        return compiled[0](*args)

    return first_call


def compiled(fn: Callable[..., Any], types: str | None = None, **flags: Any) -> Callable[..., Any]:
    """``fn`` compiled by numba (for ``types`` at once when given, else at its first call), its machine code
    cached on disk where a cache folder can be written, else compiled in memory once a process."""
    import numba  # a third of a second: only in processes that run a kernel

    typed = (types,) if types else ()
    try:
        return numba.njit(*typed, cache=True, **flags)(fn)
    except RuntimeError:   # no writable cache folder (a read-only install, no home): compile every run
        return numba.njit(*typed, **flags)(fn)


def load(*modules: str) -> None:
    """Compile (or load from the cache) the kernels of these modules now, in this process: processes forked
    afterwards have them without loading numba themselves."""
    for name in modules:
        _compile_module(name)


def _compile_module(name: str) -> Any:
    module = sys.modules[name]
    for fn_name in _waiting.pop(name, []):
        setattr(module, fn_name, compiled(getattr(module, fn_name).__wrapped__))
    return module
