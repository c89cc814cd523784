#!/usr/bin/env python3
"""Baseline for `promobot-bench edit`: the seed's approach (PyYAML load, set the tag, dump) over a tree.

Usage: bench-pyyaml.py ROOT IMAGE NEW_TAG [--in-memory]
Walks ROOT for *.yaml/*.yml (sorted), loads every document, sets the tag of IMAGE in Kubernetes `image:`
values, kustomize `images:` entries (newTag) and Helm `image: {registry, repository, tag}` blocks, dumps
and writes the file back. Prints one JSON line: files, seconds (walk + read + load + edit + dump + write,
excluding interpreter start-up) and which loader/dumper was used (the libyaml C ones when available).
With --in-memory, files are read first and only load + edit + dump is timed; nothing is written.
"""
import json
import os
import sys
import time

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def split(ref):
    name = ref.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def edit(node, image, tag):
    if isinstance(node, dict):
        images = node.get("images")
        if isinstance(images, list):
            for entry in images:
                if isinstance(entry, dict) and (entry.get("newName") or entry.get("name")) == image:
                    entry["newTag"] = tag
        for key, value in node.items():
            if key == "image" and isinstance(value, str) and split(value) == image:
                node[key] = image + ":" + tag
            elif key == "image" and isinstance(value, dict) and "repository" in value:
                full = value["repository"]
                if value.get("registry"):
                    full = value["registry"] + "/" + full
                if full == image:
                    value["tag"] = tag
            else:
                edit(value, image, tag)
    elif isinstance(node, list):
        for item in node:
            edit(item, image, tag)


def main():
    root, image, tag = sys.argv[1], sys.argv[2], sys.argv[3]
    in_memory = "--in-memory" in sys.argv[4:]
    start = time.perf_counter()
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [os.path.join(folder, n) for n in sorted(names) if n.endswith((".yaml", ".yml"))]
    files.sort()
    texts = {}
    if in_memory:
        for path in files:
            with open(path, encoding="utf-8") as handle:
                texts[path] = handle.read()
        start = time.perf_counter()
    for path in files:
        if in_memory:
            source = texts[path]
        else:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
        documents = list(yaml.load_all(source, Loader=Loader))
        for document in documents:
            edit(document, image, tag)
        text = yaml.dump_all(documents, Dumper=Dumper, sort_keys=False, default_flow_style=False)
        if not in_memory:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
    seconds = time.perf_counter() - start
    print(json.dumps({"files": len(files), "seconds": seconds, "loader": Loader.__name__, "dumper": Dumper.__name__}))


if __name__ == "__main__":
    main()
