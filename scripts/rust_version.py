#!/usr/bin/env python3
"""Checks that each workspace member's `rust-version` is true.

For every member of the workspace, compares the `rust-version` it declares
with the highest `rust-version` among the packages of its resolved dependency
tree (Cargo.lock, as `cargo metadata` resolves it), and fails when the
declared one is lower.

What counts:
- normal and build dependencies, followed transitively, with every feature of
  the member enabled (`--all-features`): the crate's `rust-version` holds for
  all its features, as Cargo's MSRV-aware resolver assumes;
- dependencies of every target platform (no `--filter-platform`): the
  `rust-version` holds wherever the crate builds;
- other workspace members a member depends on, by their declared
  `rust-version`.

What does not fail the check: dev-dependencies. They are not built for the
crate's users, only for its own tests, benches and examples, which run on the
toolchain CI uses. Their requirement is printed for each member (with the
dependency that sets it), and a note when the running rustc is older than it
(a note only: it counts every platform's dev-dependencies, and a
dev-dependency of another platform never builds here).

`cargo metadata` resolves the workspace's features together (and counts
features that dev-dependencies turn on), so a member's tree can hold a
dependency that only another member, or a dev-dependency, enables: the
requirement printed is an upper bound, never lower than the true one. When a
failure names such a dependency, `cargo tree -p <member> --all-features
-e normal,build --target all -i <dependency>` shows whether the member alone
pulls it in.

Per feature, it also prints what the member needs with only the dependencies
that are always on, and with each feature's own optional dependencies added,
so the comments in Cargo.toml can name the right feature and dependency.

Standard library only. Run from anywhere in the repository:
    python3 scripts/rust_version.py
"""

import json
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_version(text):
    """'1.89' or '1.89.0' -> (1, 89, 0); None for a missing version."""
    if not text:
        return None
    match = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not match:
        raise SystemExit(f"rust-version check: cannot read version {text!r}")
    return tuple(int(part or 0) for part in match.groups())


def show(version):
    """(1, 89, 0) -> '1.89'; (1, 89, 2) -> '1.89.2'; None -> 'none'."""
    if version is None:
        return "none"
    if version[2] == 0:
        return f"{version[0]}.{version[1]}"
    return ".".join(str(part) for part in version)


def cargo_metadata():
    command = ["cargo", "metadata", "--format-version", "1", "--all-features"]
    result = subprocess.run(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"rust-version check: `{' '.join(command)}` failed")
    return json.loads(result.stdout)


def rustc_version():
    try:
        out = subprocess.run(
            ["rustc", "--version"], stdout=subprocess.PIPE, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, "rustc not found"
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    return (tuple(int(g) for g in match.groups()) if match else None), out.strip()


def kinds(dep):
    return {kind["kind"] for kind in dep["dep_kinds"]}


def runtime_edge(dep):
    """A normal (None) or build dependency: built for the crate's users."""
    return bool(kinds(dep) & {None, "build"})


class Graph:
    def __init__(self, metadata):
        self.packages = {pkg["id"]: pkg for pkg in metadata["packages"]}
        self.nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
        self.members = metadata["workspace_members"]

    def label(self, pkg_id):
        pkg = self.packages[pkg_id]
        return f"{pkg['name']} {pkg['version']}"

    def rust_version(self, pkg_id):
        return parse_version(self.packages[pkg_id].get("rust_version"))

    def highest(self, starts, parent_of_start):
        """The highest rust-version reachable from the package ids in
        `starts` over normal and build edges: (version, package id, path)."""
        parent = {parent_of_start: None}
        parent.update(dict.fromkeys(starts, parent_of_start))
        queue = list(starts)
        best = (None, None, None)
        while queue:
            pkg_id = queue.pop()
            version = self.rust_version(pkg_id)
            # On a tie, name a dependency from outside the workspace: the
            # one that sets the requirement rather than a member passing it on.
            rank = (version, pkg_id not in self.members)
            if version is not None and (best[0] is None or rank > best[2]):
                best = (version, pkg_id, rank)
            for dep in self.nodes[pkg_id]["deps"]:
                if runtime_edge(dep) and dep["pkg"] not in parent:
                    parent[dep["pkg"]] = pkg_id
                    queue.append(dep["pkg"])
        path = []
        step = best[1]
        while step is not None:
            path.append(self.packages[step]["name"])
            step = parent[step]
        return best[0], best[1], " -> ".join(reversed(path))

    def direct(self, member_id, edge_ok):
        return [dep for dep in self.nodes[member_id]["deps"] if edge_ok(dep)]

    def feature_deps(self, member_id):
        """For each feature of the member, the names of the optional
        dependencies it turns on (following the features it enables; a
        `dep?/feature` value turns nothing on)."""
        pkg = self.packages[member_id]
        features = pkg["features"]
        optional = {
            dep.get("rename") or dep["name"]
            for dep in pkg["dependencies"]
            if dep["optional"] and dep["kind"] in (None, "build")
        }

        def walk(feature, seen):
            names = set()
            if feature in seen:
                return names
            seen.add(feature)
            for value in features.get(feature, []):
                if value.startswith("dep:"):
                    names.add(value[4:])
                elif "/" in value:
                    name = value.split("/", 1)[0]
                    if not name.endswith("?") and name in optional:
                        names.add(name)
                elif value in features:
                    # Includes the implicit feature of an optional dependency
                    # (`x = ["dep:x"]`), which cargo metadata lists.
                    names |= walk(value, seen)
            return names

        return {feature: walk(feature, set()) for feature in sorted(features)}

    def dep_ids(self, member_id, names):
        """Resolved package ids of the member's normal/build dependencies
        declared under the given names (package name or rename)."""
        pkg = self.packages[member_id]
        packages = {
            dep["name"]
            for dep in pkg["dependencies"]
            if (dep.get("rename") or dep["name"]) in names
        }
        return [
            dep["pkg"]
            for dep in self.direct(member_id, runtime_edge)
            if self.packages[dep["pkg"]]["name"] in packages
        ]


def main():
    graph = Graph(cargo_metadata())
    rustc, rustc_text = rustc_version()
    failures = []
    notes = []
    rows = []
    print("rust-version check: normal and build dependencies, all features, every platform")
    for member_id in sorted(graph.members, key=graph.label):
        pkg = graph.packages[member_id]
        name = pkg["name"]
        declared = graph.rust_version(member_id)
        starts = [dep["pkg"] for dep in graph.direct(member_id, runtime_edge)]
        required, by, path = graph.highest(starts, member_id)
        # Tests, benches and examples: dev-dependencies too.
        all_starts = [dep["pkg"] for dep in graph.nodes[member_id]["deps"]]
        tests, tests_by, tests_path = graph.highest(all_starts, member_id)
        ok = required is None or (declared is not None and declared >= required)
        rows.append((name, declared, required, by, ok))
        print()
        print(f"{name}: declared {show(declared)}, required {show(required)}"
              + (f" by {graph.label(by)} ({path})" if by else "")
              + ("" if ok else "  <-- TOO LOW"))
        # What each feature needs on its own (the always-on dependencies plus
        # the feature's optional ones), for the comments in Cargo.toml.
        features = graph.feature_deps(member_id)
        optional = {
            dep.get("rename") or dep["name"]
            for dep in pkg["dependencies"]
            if dep["optional"]
        }
        always = graph.dep_ids(member_id, {
            dep.get("rename") or dep["name"]
            for dep in pkg["dependencies"]
            if not dep["optional"] and dep["kind"] in (None, "build")
        })
        if optional:
            base, base_by, base_path = graph.highest(always, member_id)
            print(f"  {'always-on dependencies:':<31}{show(base)}"
                  + (f" by {graph.label(base_by)} ({base_path})" if base_by else ""))
            for feature, names in features.items():
                if not names:
                    continue
                version, fby, fpath = graph.highest(
                    graph.dep_ids(member_id, names), member_id
                )
                print(f"  {'feature ' + feature + ' adds:':<31}{show(version)}"
                      + (f" by {graph.label(fby)} ({fpath})" if fby else ""))
        print(f"  {'with dev-dependencies:':<31}{show(tests)}"
              + (f" by {graph.label(tests_by)} ({tests_path})" if tests_by else "")
              + " (tests, benches, examples; not the users' requirement)")
        if not ok:
            failures.append(
                f"{name}: rust-version is {show(declared)}, but {graph.label(by)} "
                f"needs Rust {show(required)} ({path}): set rust-version = "
                f"\"{show(required)}\" in {os.path.relpath(pkg['manifest_path'], REPO)}"
            )
        if tests is not None and rustc is not None and rustc < tests:
            notes.append(
                f"{name}: its tests, benches or examples may need Rust "
                f"{show(tests)} ({tests_path}), newer than {rustc_text}"
            )

    print()
    print(f"{'crate':<20}{'declared':>10}{'required':>10}  by")
    for name, declared, required, by, ok in rows:
        print(f"{name:<20}{show(declared):>10}{show(required):>10}  "
              + (graph.label(by) if by else "-") + ("" if ok else "  TOO LOW"))
    print(f"toolchain: {rustc_text}")
    for note in notes:
        print(f"note: {note}")
    if failures:
        print()
        for failure in failures:
            print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
