#!/usr/bin/env bash
# Benchmark UsherLiquid against Shopify's Ruby Liquid and python-liquid on the same templates and
# data (invitation email, 200-row table). Prints renders/s and parse time side by side, the ratios,
# and whether the three outputs agree.
#
#   bench/liquid/run.sh [SECONDS]
#
# Environment:
#   LIQUID_BENCH_PACKAGE  package directory that has the LiquidBench product (default: bench/swift)
#   LIQUID_BENCH_VENV     virtualenv for python-liquid (default: bench/liquid/.venv, created if missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${1:-3}"
package="${LIQUID_BENCH_PACKAGE:-$root/bench/swift}"
venv="${LIQUID_BENCH_VENV:-$here/.venv}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== building LiquidBench (release) in $package"
(cd "$package" && swift build -c release --product LiquidBench >/dev/null)
bench_bin="$(cd "$package" && swift build -c release --product LiquidBench --show-bin-path)/LiquidBench"

results="$out/results.txt"
"$bench_bin" --dir "$here" --seconds "$secs" --out "$out" | tee -a "$results"

if command -v ruby >/dev/null && ruby -e 'require "liquid"' 2>/dev/null; then
  ruby "$here/bench.rb" "$here" "$secs" "$out" | tee -a "$results"
else
  echo "ruby with the liquid gem not found (apt-get install ruby-liquid); skipping Ruby" >&2
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q python-liquid || echo "could not install python-liquid" >&2
fi
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import liquid' 2>/dev/null; then
  "$venv/bin/python" "$here/bench.py" "$here" "$secs" "$out" | tee -a "$results"
fi

echo
python3 - "$results" "$out" <<'PY'
import re, sys, os
results, out = sys.argv[1], sys.argv[2]
rows = {}
for line in open(results):
    m = re.match(r"(\w+) (\w+) parse_us=([\d.]+) renders_per_s=(\d+) bytes=(\d+)", line)
    if m:
        impl, name, parse, rate, size = m.groups()
        rows.setdefault(name, {})[impl] = (float(parse), int(rate), int(size))
print(f"{'benchmark':<12}{'impl':<8}{'renders/s':>12}{'parse µs':>10}{'bytes':>8}{'swift ×':>10}")
for name, impls in rows.items():
    swift = impls.get("swift")
    for impl in ("swift", "ruby", "python"):
        if impl not in impls:
            continue
        parse, rate, size = impls[impl]
        ratio = f"{swift[1] / rate:.1f}" if swift and impl != "swift" else ""
        print(f"{name:<12}{impl:<8}{rate:>12}{parse:>10.1f}{size:>8}{ratio:>10}")
    outputs = {}
    for impl in ("swift", "ruby", "python"):
        p = os.path.join(out, f"{name}.{impl}.html")
        if os.path.exists(p):
            outputs[impl] = open(p, encoding="utf-8").read()
    if "swift" in outputs:
        same = [i for i in outputs if outputs[i] == outputs["swift"]]
        print(f"{'':<12}output identical to swift: {', '.join(same)}")
PY
