#!/bin/sh
# reef's one entry point for building and testing.
#   ./build.sh          install missing build packages (apt-get), build build/reef
#   ./build.sh test     build, then run every test (unit, end-to-end)
#   ./build.sh asan     build the unit tests with AddressSanitizer + UBSan and run them
#   ./build.sh fuzz     build the libFuzzer targets and run each for $REEF_FUZZ_SECONDS (60)
#   ./build.sh clean    remove every build directory
set -eu
cd "$(dirname "$0")"
jobs=$(nproc 2>/dev/null || echo 2)
what=${1:-build}

case "$what" in
build)
    vendor/install.sh build
    make -j"$jobs" MODE=release all
    ;;
test)
    vendor/install.sh build test
    make -j"$jobs" MODE=release all
    exec tests/run build
    ;;
asan)
    vendor/install.sh build test
    make -j"$jobs" MODE=asan tests
    exec tests/run build-asan --unit
    ;;
fuzz)
    vendor/install.sh build test
    make -j"$jobs" MODE=fuzz fuzz
    exec tests/fuzz/run build-fuzz "${REEF_FUZZ_SECONDS:-60}"
    ;;
clean)
    rm -rf build build-asan build-fuzz
    ;;
*)
    echo "usage: ./build.sh [build|test|asan|fuzz|clean]" >&2
    exit 2
    ;;
esac
