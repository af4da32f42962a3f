"""The op families load on demand: ``ops/_index.py`` says which family defines each kind; it must
be current, a lookup must import only the family it needs, and a kind the index does not know
must still be found."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from netarith.ops import KINDS, REGISTRY, _index


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_index_is_current() -> None:
    # If this fails after adding a kind: python -m netarith.ops._index (it rewrites the file).
    with open(_index.__file__, encoding="utf-8") as f:
        assert f.read() == _index.written()


def test_the_index_lists_every_kind_and_alias_of_the_families() -> None:
    listed = {name for names in _index.FAMILIES.values() for name in names}
    ours = {name for name, cls in REGISTRY.items() if cls.__module__.startswith("netarith.ops.")}
    assert listed == ours
    assert set(KINDS) <= set(REGISTRY)
    assert all(REGISTRY[kind] is cls for kind, cls in KINDS.items())


def test_a_lookup_imports_only_the_family_it_needs() -> None:
    out = _run("""
        import sys
        import netarith
        from netarith.ops import REGISTRY
        families = lambda: sorted(m.rpartition(".")[2] for m in sys.modules
                                  if m.startswith("netarith.ops.") and not m.rpartition(".")[2].startswith("_"))
        before = families()
        REGISTRY["relu"], REGISTRY.get("maxpool2d")
        after = families()
        print(before, after, "nothing" in REGISTRY, len(REGISTRY) > 100, families())
    """)
    assert out == ("['base', 'input'] ['activation', 'base', 'input', 'pool'] False True "
                   "['activation', 'base', 'conv', 'input', 'linear', 'merge', 'norm', 'opaque', 'pool', "
                   "'reduce', 'resample', 'reshape']")


def test_a_kind_the_index_does_not_know_is_found_by_importing_every_family() -> None:
    out = _run("""
        from netarith.ops import _index
        _index.FAMILY_OF.clear()  # as if every kind had been added after the index was written
        from netarith import analyze
        print(analyze("3x8x8 | conv 4 k3 | relu | add conv_1").totals.params)
    """)
    assert out == "112"


def test_the_notation_reads_a_shape_without_importing_every_family() -> None:
    out = _run("""
        import sys
        from netarith import parse
        parse("3x8x8 | conv 4 k3")
        print("netarith.ops.merge" in sys.modules)
    """)
    assert out == "False"
