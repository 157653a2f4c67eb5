"""python-liquid side of bench/liquid: same templates, same data, same measurement.

    python bench.py DIR SECONDS OUTDIR name...
"""
import json
import os
import sys
import time

from liquid import Environment

directory, secs, outdir, *names = sys.argv[1:]
secs = float(secs)
names = names or ["invitation", "table"]
env = Environment()

for name in names:
    with open(os.path.join(directory, name + ".liquid"), encoding="utf-8") as f:
        source = f.read()
    with open(os.path.join(directory, name + ".json"), encoding="utf-8") as f:
        data = json.load(f)
    template = env.from_string(source)
    parses = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < min(0.3, secs / 4) or parses < 10:
        template = env.from_string(source)
        parses += 1
    parse_us = (time.perf_counter() - t0) / parses * 1e6
    output = ""
    for _ in range(20):
        output = template.render(**data)
    renders = 0
    t0 = time.perf_counter()
    elapsed = 0.0
    while elapsed < secs:
        for _ in range(16):
            output = template.render(**data)
        renders += 16
        elapsed = time.perf_counter() - t0
    print(f"python {name} parse_us={parse_us:.1f} renders_per_s={renders / elapsed:.0f} bytes={len(output.encode())}")
    if outdir:
        with open(os.path.join(outdir, name + ".python.html"), "w", encoding="utf-8") as f:
            f.write(output)
