"""The type stubs (python/sdnc/_sdnc.pyi) name exactly what the extension module has, so editors
complete real calls: every class and function of the stubs exists in sdnc._sdnc with the same
methods, and every public name of the module is in the stubs."""
import ast
import pathlib

import sdnc

STUBS = pathlib.Path(sdnc.__file__).with_name("_sdnc.pyi")


def test_stubs_match_the_module():
    tree = ast.parse(STUBS.read_text(encoding="utf-8"))
    stubbed = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            stubbed.add(node.name)
            assert hasattr(sdnc._sdnc, node.name), f"_sdnc.pyi names {node.name}, the module has none"
        if isinstance(node, ast.ClassDef):
            cls = getattr(sdnc._sdnc, node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__"):
                    assert hasattr(cls, item.name), f"_sdnc.pyi: {node.name}.{item.name} is not in the module"
    public = {n for n in dir(sdnc._sdnc) if not n.startswith("__")}
    assert public - stubbed == set(), f"in the module but not in _sdnc.pyi: {sorted(public - stubbed)}"
