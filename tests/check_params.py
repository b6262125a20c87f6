#!/usr/bin/python3
"""check_params.py - every parameter the table declares implemented is read.

Run by `make test` from the top of the tree. A parameter of conf/params.c
without CONF_F_UNIMPLEMENTED (U) promises that moat acts on it, so some code
outside the table must read it:

  - a typed accessor call with the name as a literal:
        conf_str(c, "myhostname"), conf_int(st->conf, "max_use"), ...
  - CONF_NAME("name"): a name kept in a table and read later through an
    accessor (conf/conf.h);
  - a name <transport><suffix> whose suffix is registered (CONF_SUFFIX_* in
    conf/conf.h, listed in conf/transport.c) and used by some reader outside
    conf/ through conf_transport_param;
  - a $name in the default value of a parameter that is read (mydomain in
    mydestination's default): the reader expands it.

Fails (exit 1) listing each implemented parameter nothing reads. Also lists,
without failing, the implemented parameters that no file under tests/ names:
a parameter nobody sets in a test has no test that sees its effect.
"""
import os
import re
import sys

CODE_DIRS = ("lib", "mail", "queue", "ipc", "conf", "sandbox", "maps", "chroot-setup",
             "audit", "skeleton", "stagecf", "daemons", "tools")
ACCESSOR = re.compile(r'\bconf_(?:str|bool|int|time|size|list)\s*\(\s*[^;,()]*(?:\([^()]*\))?'
                      r'[^;,()]*,\s*"([a-z0-9_]+)"\s*\)')
MARKER = re.compile(r'\bCONF_NAME\s*\(\s*"([a-z0-9_]+)"\s*\)')
SUFFIX_DEF = re.compile(r'#define\s+(CONF_SUFFIX_[A-Z0-9_]+)\s+"(_[a-z0-9_]+)"')
ROW = re.compile(r'^\s*P_[A-Z]+\("([a-z0-9_]+)",\s*("(?:[^"\\]|\\.)*")(.*)\),\s*$')
MACRO = re.compile(r'\$[{(]?([a-z0-9_]+)')


def table(path="conf/params.c"):
    """[(name, line, implemented, default)] from the parameter table."""
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = ROW.match(line)
            if m:
                unimpl = re.search(r'(^|[ ,|])U([ ,|]|$)', m.group(3)) is not None
                rows.append((m.group(1), n, not unimpl, m.group(2)))
    return rows


def through_defaults(rows, reads):
    """reads, plus every $name in the default of a parameter that is read."""
    defaults = {name: default for name, _, impl, default in rows if impl}
    todo = list(reads)
    while todo:
        for ref in MACRO.findall(defaults.get(todo.pop(), "")):
            if ref not in reads:
                reads.add(ref)
                todo.append(ref)
    return reads


def sources(dirs, exts=(".c", ".h")):
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith(exts):
                    yield os.path.join(root, f)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def registered_suffixes(code):
    """{suffix: macro} registered in conf.h, listed in conf/transport.c and
    used by a reader outside conf/; a registration that fails one of these
    is reported as an error."""
    errors, out = [], {}
    registry = read("conf/transport.c")
    for macro, suffix in SUFFIX_DEF.findall(read("conf/conf.h")):
        # a file outside conf/ that names the suffix and builds names with
        # conf_transport_param (directly, or through a helper of its own)
        users = [p for p, text in code.items()
                 if not p.startswith("conf/") and re.search(r'\b' + macro + r'\b', text)
                 and re.search(r'\bconf_transport_param\s*\(', text)]
        if not re.search(r'\b' + macro + r'\b', registry):
            errors.append(f"{macro} is not listed in conf/transport.c")
        elif not users:
            errors.append(f"{macro} ({suffix}) is registered but no code builds names with it")
        else:
            out[suffix] = macro
    return out, errors


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    code = {p: read(p) for p in sources(CODE_DIRS) if p != "conf/params.c"}
    reads = set()
    for text in code.values():
        reads.update(ACCESSOR.findall(text))
        reads.update(MARKER.findall(text))
    suffixes, errors = registered_suffixes(code)
    rows = table()
    reads = through_defaults(rows, reads | {name for name, _, impl, _ in rows if impl and any(
        name.endswith(s) for s in suffixes)})
    unread = [(name, line) for name, line, impl, _ in rows
              if impl and name not in reads and not any(name.endswith(s) for s in suffixes)]
    tests = "".join(read(p) for p in sources(["tests"], (".py", ".c", ".h", ".sh", ".cf", ".in",
                                                          ".ref", ".txt")))
    untested = [name for name, _, impl, _ in rows
                if impl and not re.search(r'(?:\b|(?<=\\n))' + name + r'\b', tests)]
    nimpl = sum(1 for _, _, impl, _ in rows if impl)
    print(f"check_params: {len(rows)} parameters, {nimpl} implemented, {len(rows) - nimpl} "
          f"marked unimplemented")
    if untested:
        print(f"check_params: {len(untested)} implemented parameters no test names "
              f"(informational): {' '.join(untested)}")
    for e in errors:
        print(f"check_params: error: {e}")
    for name, line in unread:
        print(f"conf/params.c:{line}: {name} is declared implemented but no code reads it "
              f"(read it with conf_*(), or mark it U with the reason)")
    if unread or errors:
        print(f"check_params: FAILED: {len(unread)} implemented parameters nothing reads")
        return 1
    print("check_params: ok: every implemented parameter is read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
