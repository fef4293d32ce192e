#!/bin/sh
# tools/setup.sh - install the Debian packages memsim needs, only those missing.
#
# Build: gcc, make, pkg-config, libcjson-dev, zlib1g-dev, libzstd-dev
# (heaptrack files are zstd). Tests: heaptrack and zstd (recordings that
# tests/e2e/heaptrack.sh compares with heaptrack_print).
# Reports: gnuplot-nox (plots). Tests: python3 (JSON checks), clang and
# libclang-rt-14-dev (sanitizer and fuzzing tiers), valgrind, sqlite3 (a
# real program recorded by tests/e2e/glibc_exact.sh), libjemalloc2,
# libtcmalloc-minimal4, libmimalloc2.0 (tools/replay-real --lib); make bench:
# time (GNU time, for peak RSS). Sweeps (docs/sweeps.md, tests/e2e/sweep_*.sh):
# parallel (GNU parallel), slurm-wlm and munge (a single-node Slurm).
# chromium: tests/e2e/html_browser.sh opens index.html in it (headless).
# Run as root (or with sudo); when nothing is missing it does nothing.
set -eu
PACKAGES="gcc make pkg-config libc6-dev libcjson-dev zlib1g-dev libzstd-dev gnuplot-nox python3 clang libclang-rt-14-dev valgrind sqlite3 libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 time parallel slurm-wlm munge heaptrack zstd chromium"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "setup: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "setup: run as root: apt-get install$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
