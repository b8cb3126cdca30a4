#!/bin/sh
# Installs what the benchmarks compare against (the "bench" set of vendor/packages.txt).
exec "$(dirname "$0")/../vendor/install.sh" build test bench
