# Static check of a proposal's Python file: it must not rebind, shadow or
# monkeypatch the metric function or anything else it takes from the
# read-only modules (prepare.py). Run by the harness as
#   python3 metriccheck.py TARGET.py READONLY.py...
# and prints one finding per line, "LINE<TAB>MESSAGE"; nothing when clean.
# A file that does not parse prints nothing (the syntax check reports it).
import ast
import os
import sys

METRIC = "evaluate_bpb"
# Attributes through which a function's or module's insides are reached.
INSIDES = {"__dict__", "__globals__", "__code__", "__defaults__", "__kwdefaults__",
           "__closure__", "__builtins__", "__wrapped__"}
MUTATORS = {"update", "__setitem__", "__delitem__", "setdefault", "pop", "popitem", "clear", "__setattr__", "__delattr__"}
CODE_RUNNERS = {"exec", "eval", "compile", "__import__"}


def parse(path):
    try:
        with open(path, encoding="utf-8") as f:
            return ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return None


def defined_names(tree):
    """Top-level names a read-only module defines (not the ones it imports)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names.add(n.id)
    return names


def root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def is_sys_modules(node):
    return isinstance(node, ast.Attribute) and node.attr == "modules" and root_name(node) == "sys"


def is_namespace(node):
    """globals(), locals(), vars(x), x.__dict__, sys.modules, __builtins__."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("globals", "locals", "vars"):
        return True
    if isinstance(node, ast.Attribute) and node.attr in INSIDES:
        return True
    if isinstance(node, ast.Name) and node.id == "__builtins__":
        return True
    return is_sys_modules(node)


def check(tree, readonly_modules, protected):
    findings = []

    def bad(node, msg):
        findings.append((getattr(node, "lineno", 0), msg))

    imported = set()       # names bound by import statements (modules, mostly)
    module_aliases = set() # names bound to a read-only module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                bound = a.asname or a.name.split(".")[0]
                imported.add(bound)
                if a.name in readonly_modules:
                    module_aliases.add(bound)
        elif isinstance(node, ast.ImportFrom) and node.module in readonly_modules:
            for a in node.names:
                if a.asname and a.name in protected:
                    protected.add(a.asname)  # an alias of the metric is the metric
    # Names assigned from something that reaches a module object
    # (m = sys.modules["prepare"], m = importlib.import_module(...)).
    for _ in range(2):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                reaches = any(
                    (isinstance(n, ast.Name) and n.id in module_aliases) or is_sys_modules(n)
                    or (isinstance(n, ast.Attribute) and n.attr == "import_module")
                    for n in ast.walk(node.value))
                if reaches:
                    for t in node.targets:
                        if isinstance(t, ast.Name):
                            module_aliases.add(t.id)

    def what(name):
        if name == METRIC:
            return "%s (the metric function)" % name
        return "%s (from the read-only files)" % name

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in protected:
            bad(node, "defines %s, shadowing it" % what(node.name))
        if isinstance(node, ast.arguments):
            for a in node.posonlyargs + node.args + node.kwonlyargs + [node.vararg, node.kwarg]:
                if a is not None and a.arg in protected:
                    bad(a, "uses %s as a parameter name, shadowing it" % what(a.arg))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in protected:
            bad(node, "assigns to %s" % what(node.id))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for n in node.names:
                if n in protected:
                    bad(node, "declares %s global, to rebind it" % what(n))
        elif isinstance(node, ast.Import):
            for a in node.names:
                bound = a.asname or a.name.split(".")[0]
                if bound in protected:
                    bad(node, "imports something else as %s" % what(bound))
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                bound = a.asname or a.name
                if bound in protected and not (node.module in readonly_modules and (a.name == bound or a.name in protected)):
                    bad(node, "imports something else as %s" % what(bound))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = root_name(node.value)
            if node.attr in protected:
                bad(node, "assigns to the attribute %s" % what(node.attr))
            elif node.attr in INSIDES:
                bad(node, "replaces %s of an object" % node.attr)
            elif root in module_aliases:
                bad(node, "monkeypatches the read-only module (%s.%s)" % (root, node.attr))
            elif isinstance(node.value, ast.Name) and node.value.id in protected:
                bad(node, "changes an attribute of %s" % what(node.value.id))
            elif root in imported and not is_constant_assignment(tree, node):
                bad(node, "monkeypatches the imported module %s (only constant settings such as flags may be assigned)" % root)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)) and is_namespace(node.value):
            bad(node, "writes into a namespace (globals(), vars(), __dict__, sys.modules), which can rebind the metric")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in CODE_RUNNERS:
                bad(node, "calls %s(), which runs code this check cannot see" % f.id)
            elif isinstance(f, ast.Name) and f.id in ("setattr", "delattr") and node.args:
                target = node.args[0]
                attr = node.args[1] if len(node.args) > 1 else None
                const = attr.value if isinstance(attr, ast.Constant) and isinstance(attr.value, str) else None
                troot = root_name(target)
                if const is not None and (const in protected or const in INSIDES):
                    bad(node, "%s() on %s" % (f.id, what(const)))
                elif troot in module_aliases or is_namespace(target) or (isinstance(target, ast.Name) and target.id in protected):
                    bad(node, "%s() on the read-only module or the metric" % f.id)
                elif not isinstance(target, (ast.Name, ast.Attribute)):
                    bad(node, "%s() on a computed object (a module looked up at run time)" % f.id)
                elif const is None and troot in imported:
                    bad(node, "%s() with a computed name on the imported module %s" % (f.id, troot))
            elif isinstance(f, ast.Attribute) and f.attr in MUTATORS and is_namespace(f.value):
                bad(node, "calls .%s() on a namespace (globals(), vars(), __dict__, sys.modules), which can rebind the metric" % f.attr)
    return findings


def is_constant_assignment(tree, target):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(t is target for t in targets):
                v = node.value
                if isinstance(v, ast.UnaryOp):
                    v = v.operand
                return isinstance(v, ast.Constant)
    return False


def main():
    target, readonly = sys.argv[1], sys.argv[2:]
    tree = parse(target)
    if tree is None:
        return
    modules, protected = set(), {METRIC}
    for path in readonly:
        if not path.endswith(".py"):
            continue
        modules.add(os.path.splitext(os.path.basename(path))[0])
        ro = parse(path)
        if ro is not None:
            protected |= defined_names(ro)
    for line, msg in sorted(check(tree, modules, protected)):
        print("%d\t%s" % (line, msg))


main()
