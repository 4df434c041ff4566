#!/usr/bin/env bash
# Run the libFuzzer targets of tests/fuzz/ for a while each.
#
#   tests/fuzz/run.sh [--seconds N] [target...] [-- libFuzzer flags...]
#
# Builds what is missing or stale (build.sh), then runs each target
# (default: all of them, one after the other) for N seconds (default 60)
# over a fresh copy of its seed corpus, tests/fuzz/corpus/<name>/, with
# its dictionary.  Nothing is written into the source tree: runs happen
# in the build directory ($SIO_FUZZ_BUILD, else ${TMPDIR:-/tmp}/sio-fuzz),
# crashing inputs land in <build>/crashes/<target>/ and stay there, as
# does the run directory <build>/runs/<target>.<pid>/ (log, corpus) of a
# failed run; a run that passed is removed.
# Prints the executions of each target; exits 1 when any target found a
# crash, a leak, a timeout or an out-of-memory, 77 when clang is missing,
# 2 on a usage error.  Targets are named fuzz_post or just post.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzzdir=$top/tests/fuzz
build=${SIO_FUZZ_BUILD:-${TMPDIR:-/tmp}/sio-fuzz}
export SIO_FUZZ_BUILD=$build
seconds=60
targets=()
extra=()

say() { printf 'fuzz: %s\n' "$*"; }
usage()
{
	echo "usage: tests/fuzz/run.sh [--seconds N] [target...]" \
	    "[-- libFuzzer flags...]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--seconds)
		[ $# -ge 2 ] || usage
		seconds=$2
		shift 2 ;;
	--seconds=*)
		seconds=${1#--seconds=}
		shift ;;
	--)
		shift
		extra=("$@")
		break ;;
	-h|--help)
		usage ;;
	-*)
		usage ;;
	*)
		t=${1#fuzz_}
		targets+=("fuzz_${t%.c}")
		shift ;;
	esac
done
case $seconds in
''|*[!0-9]*|0)
	say "--seconds wants a positive number of seconds"
	exit 2 ;;
esac
if [ "${#targets[@]}" -eq 0 ]; then
	for f in "$fuzzdir"/fuzz_*.c; do
		t=${f##*/}
		targets+=("${t%.c}")
	done
fi

if ! command -v "${CC_FUZZ:-clang}" >/dev/null 2>&1; then
	say "SKIP: clang is missing (apt-get install clang libclang-rt-14-dev)"
	exit 77
fi
mkdir -p "$build"
if ! "$fuzzdir/build.sh" "${targets[@]}" >"$build/build.log" 2>&1; then
	say "FAIL: build failed:"
	cat "$build/build.log"
	exit 1
fi

# dict_of TARGET: the dictionary a target uses, if any.
dict_of()
{
	case $1 in
	fuzz_post|fuzz_sio_packet)
		echo "$fuzzdir/sio.dict" ;;
	*)
		[ -f "$fuzzdir/${1#fuzz_}.dict" ] &&
		    echo "$fuzzdir/${1#fuzz_}.dict" ;;
	esac
}

status=0
for t in "${targets[@]}"; do
	name=${t#fuzz_}
	# One directory per run, so that runs side by side never meet.
	run=$build/runs/$t.$$
	crashes=$build/crashes/$t
	rm -rf "$run"
	mkdir -p "$run/corpus" "$run/tmp" "$crashes"
	if [ -d "$fuzzdir/corpus/$name" ]; then
		cp -R "$fuzzdir/corpus/$name/." "$run/corpus/"
	fi
	flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25
	    -print_final_stats=1 -artifact_prefix="$crashes/")
	d=$(dict_of "$t")
	[ -n "$d" ] && flags+=(-dict="$d")
	# Only the artifacts this run writes are reported.
	before=$(ls -A "$crashes")
	(cd "$run" && TMPDIR=$run/tmp exec "$build/$t" "${flags[@]}" \
	    "${extra[@]}" "$run/corpus") >"$run/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" |
	    tail -n 1)
	[ -n "$execs" ] || execs=$(sed -n \
	    's/^Done \([0-9]*\) runs in.*/\1/p' "$run/log" | tail -n 1)
	execs=${execs:-?}
	found=()
	for f in "$crashes"/crash-* "$crashes"/leak-* "$crashes"/timeout-* \
	    "$crashes"/oom-*; do
		[ -f "$f" ] || continue
		grep -qxF "${f##*/}" <<<"$before" || found+=("$f")
	done
	# An input found again keeps its name: libFuzzer says where it went.
	while IFS= read -r f; do
		case " ${found[*]} " in
		*" $f "*) ;;
		*) [ -f "$f" ] && found+=("$f") ;;
		esac
	done < <(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$run/log")
	if [ "$rc" -eq 0 ] && [ "${#found[@]}" -eq 0 ]; then
		say "PASS: $t: $execs executions in ${seconds}s"
		rm -rf "$run"
		continue
	fi
	status=1
	say "FAIL: $t: exit $rc after $execs executions; log $run/log"
	# The sanitizer report, or what libFuzzer said last.
	if grep -q '^==[0-9]*== *ERROR\|runtime error:\|check failed' \
	    "$run/log"; then
		sed -n '/fuzz_[a-z_]*: check failed\|runtime error:\|^==[0-9]*== *ERROR/,$p' \
		    "$run/log" | head -n 60
	else
		tail -n 30 "$run/log"
	fi
	for f in "${found[@]}"; do
		say "crashing input: $f"
		# fuzz_post: the bodies that led to it, replayable alone.
		for h in "$run"/tmp/sio-fuzz-post-*/history; do
			[ -f "$h" ] || continue
			cp "$h" "$f.history"
			say "its history (replay: $build/$t $f.history):" \
			    "$f.history"
		done
	done
	[ "${#found[@]}" -gt 0 ] ||
	    say "no crashing input was written (see the log)"
done
exit "$status"
