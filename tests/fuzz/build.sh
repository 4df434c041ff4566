#!/usr/bin/env bash
# Build the libFuzzer targets of tests/fuzz/ with clang, ASan and UBSan.
#
#   tests/fuzz/build.sh [-f] [target...]
#
# The library sources (src/*.c except main.c, front.c and park.c, which
# need libfcgi) and each fuzz_<target>.c are compiled into the build
# directory, $SIO_FUZZ_BUILD or else ${TMPDIR:-/tmp}/sio-fuzz, never into
# the tree.  Objects are rebuilt when their source or any header changed;
# -f rebuilds everything.  Without targets, every tests/fuzz/fuzz_*.c is
# built.  Prints the directory of the binaries on its last line.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzzdir=$top/tests/fuzz
build=${SIO_FUZZ_BUILD:-${TMPDIR:-/tmp}/sio-fuzz}
cc=${CC_FUZZ:-clang}
force=0

if [ "${1:-}" = "-f" ]; then
	force=1
	shift
fi
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "build.sh: $cc not found (Debian: apt-get install clang" \
	    "libclang-rt-14-dev)" >&2
	exit 127
fi

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
	for f in "$fuzzdir"/fuzz_*.c; do
		t=${f##*/}
		targets+=("${t%.c}")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -f "$fuzzdir/$t.c" ]; then
		echo "build.sh: no such target: $t" >&2
		exit 2
	fi
done

# The project's warning flags (configure.ac), then the sanitizers.
warn=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_GNU_SOURCE -Wall -Wextra
    -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wwrite-strings)
san=(-O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all)
inc=(-I"$build" -I"$top/src")
# shellcheck disable=SC2207
inc+=($(pkg-config --cflags json-c lmdb uuid 2>/dev/null || true))
libs=(-llmdb -ljson-c -luuid -lpthread)

mkdir -p "$build/obj"
# One build at a time in a build directory (run.sh may run side by side).
exec 9>"$build/.lock"
flock 9

# Our own config.h: the tree's exists only once configure ran.
cfg=$build/config.h
cat >"$cfg.new" <<'CFG'
/* config.h for the fuzz build (tests/fuzz/build.sh). */
#define PACKAGE "sio-fcgi"
#define PACKAGE_BUGREPORT ""
#define PACKAGE_NAME "sio-fcgi"
#define PACKAGE_STRING "sio-fcgi fuzz"
#define PACKAGE_TARNAME "sio-fcgi"
#define PACKAGE_URL ""
#define PACKAGE_VERSION "fuzz"
#define VERSION "fuzz"
CFG
if cmp -s "$cfg.new" "$cfg"; then
	rm -f "$cfg.new"
else
	mv "$cfg.new" "$cfg"
fi

# The newest header: an object older than it is rebuilt.
newest_h=$cfg
for h in "$top"/src/*.h "$fuzzdir"/*.h; do
	[ -e "$h" ] || continue
	[ "$h" -nt "$newest_h" ] && newest_h=$h
done

# stale OBJ SRC: true when OBJ must be rebuilt from SRC.
stale()
{
	[ "$force" -eq 1 ] || [ ! -e "$1" ] || [ "$2" -nt "$1" ] ||
	    [ "$newest_h" -nt "$1" ]
}

objs=()
jobs=()
for src in "$top"/src/*.c; do
	base=${src##*/}
	case $base in
	main.c|front.c|park.c)
		continue ;;
	esac
	obj=$build/obj/${base%.c}.o
	objs+=("$obj")
	stale "$obj" "$src" && jobs+=("$src")
done
# The library sources get coverage instrumentation but no libFuzzer main.
if [ "${#jobs[@]}" -gt 0 ]; then
	printf '%s\n' "${jobs[@]}" | xargs -P "$(nproc)" -I{} sh -c '
		src=$1; shift
		base=${src##*/}
		exec "$@" -c "$src" -o "'"$build"'/obj/${base%.c}.o"
	    ' sh {} "$cc" "${warn[@]}" "${san[@]}" \
	    -fsanitize=fuzzer-no-link,address,undefined "${inc[@]}"
fi

for t in "${targets[@]}"; do
	src=$fuzzdir/$t.c
	obj=$build/obj/$t.o
	bin=$build/$t
	if stale "$obj" "$src"; then
		"$cc" "${warn[@]}" "${san[@]}" \
		    -fsanitize=fuzzer-no-link,address,undefined "${inc[@]}" \
		    -c "$src" -o "$obj"
	fi
	relink=0
	[ "$force" -eq 1 ] || [ ! -e "$bin" ] || [ "$obj" -nt "$bin" ] &&
	    relink=1
	for o in "${objs[@]}"; do
		[ "$o" -nt "$bin" ] && relink=1
	done
	if [ "$relink" -eq 1 ]; then
		"$cc" "${san[@]}" -fsanitize=fuzzer,address,undefined \
		    -o "$bin" "$obj" "${objs[@]}" "${libs[@]}"
	fi
done
echo "$build"
