#!/usr/bin/env python3
"""The tree's layering, checked (DESIGN.md, Layout). Prints one PASS or FAIL
line per rule, with the offending files on stderr:

- calls: no two source files call each other in a loop, read from the
  objects' symbol tables (file A uses a symbol file B defines: A -> B);
- includes: no loop among the project's own headers;
- layers: a file of daemon/ includes only its own layer's headers or lower
  ones, and wgproto/, routing/, peers-repo-sync/ include none of daemon/
  (peers-repo-sync/ may use daemon/base/, the logging below everything);
- size: no source file over 800 lines.

Usage: check-layers.py OBJDIR (the objects of the daemon's library)."""
import collections
import os
import re
import subprocess
import sys

MAX_LINES = 800
# daemon/'s folders from the bottom up; a file may include its own or lower.
LAYERS = ["base", "platform", "config", "core", "datapath", "control", "uapi", "cli"]


def sccs(graph):
    """Strongly connected sets of more than one node (iterative Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in list(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def report(name, problems):
    if problems:
        print("FAIL layers:" + name)
        for p in problems:
            print("  " + p, file=sys.stderr)
    else:
        print("PASS layers:" + name)


def call_graph(objdir):
    defs, uses = {}, collections.defaultdict(set)
    objs = []
    for d, _, files in os.walk(objdir):
        objs += [os.path.join(d, f) for f in files if f.endswith(".o")]
    for o in objs:
        src = os.path.relpath(o, objdir)[:-2] + ".c"
        if not os.path.exists(src):
            continue  # an object left from a file since removed
        nm = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        for line in nm.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBRC":
                defs[f[2]] = src
            elif len(f) == 2 and f[0] == "U":
                uses[src].add(f[1])
    graph = collections.defaultdict(set)
    for src, syms in uses.items():
        for s in syms:
            d = defs.get(s)
            if d and d != src:
                graph[src].add(d)
    return graph, len(objs)


def sources():
    out = subprocess.run(["git", "ls-files", "*.c", "*.h"], capture_output=True, text=True,
                         check=True).stdout.split()
    return [f for f in out if os.path.exists(f)]


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M)


def layer_of(path):
    parts = path.split("/")
    if parts[0] == "daemon":
        return parts[1] if len(parts) > 2 else "main"
    return parts[0]


def main():
    objdir = sys.argv[1]
    graph, nobj = call_graph(objdir)
    if nobj == 0:
        report("calls", ["no object under " + objdir])
    else:
        report("calls", ["loop: " + " <-> ".join(c) for c in sccs(graph)])

    files = sources()
    inc = {f: [i for i in includes(f) if os.path.exists(i)] for f in files}
    hdr = {f: set(i for i in v if i.endswith(".h")) for f, v in inc.items() if f.endswith(".h")}
    report("includes", ["loop: " + " <-> ".join(c) for c in sccs(hdr)])

    bad = []
    for f, v in inc.items():
        if f.startswith("tests/"):
            continue
        mine = layer_of(f)
        for i in v:
            theirs = layer_of(i)
            if mine in ("wgproto", "routing") and theirs not in ("wgproto", "routing"):
                bad.append(f"{f} includes {i}: {mine}/ is below everything")
            elif mine == "peers-repo-sync" and i.startswith("daemon/") and theirs != "base":
                bad.append(f"{f} includes {i}: the registry subsystem is below daemon/")
            elif mine in LAYERS and theirs in LAYERS and LAYERS.index(theirs) > LAYERS.index(mine):
                bad.append(f"{f} includes {i}: daemon/{mine}/ is below daemon/{theirs}/")
            elif mine in LAYERS and theirs == "main":
                bad.append(f"{f} includes {i}: nothing includes main()'s file")
    report("layers", bad)

    big = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            n = sum(1 for _ in fh)
        if n > MAX_LINES:
            big.append(f"{f}: {n} lines (at most {MAX_LINES})")
    report("size", big)


if __name__ == "__main__":
    main()
