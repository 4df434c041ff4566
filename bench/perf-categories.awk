# Sort the samples of `perf script -F comm,ip,sym,dso` (with call
# chains) into where the time goes, and print each category's share.
# Used by bench/profile; not part of the test suite.
#
#   perf script -i perf.data -F comm,ip,sym,dso | awk -f bench/perf-categories.awk
#
# A sample of lighttpd counts as lighttpd whatever it does.  A sample of
# sio-fcgi in the kernel counts by what brought it there (the frames of
# its chain: a flush, a write of LMDB pages to the file, a futex, a
# socket call, a page fault); one in user space by the library it is in
# (libc's allocator apart from the rest of libc).

function category(comm, leafdso, leafsym, chain)
{
	if (comm == "lighttpd")
		return "lighttpd (user and kernel)"
	if (leafdso == "[kernel.kallsyms]") {
		if (chain ~ /do_fsync|ext4_sync_file|__x64_sys_fdatasync/)
			return "kernel: flushes (fdatasync)"
		if (chain ~ /ext4_file_write_iter|ext4_buffered_write_iter|generic_perform_write/)
			return "kernel: LMDB page writes (pwrite, writev)"
		if (chain ~ /__x64_sys_futex|futex_wait|futex_wake/)
			return "kernel: futex (locks, waits, wake-ups)"
		if (chain ~ /unix_stream|unix_dgram|sock_|__sys_accept|__x64_sys_accept|__x64_sys_shutdown|__x64_sys_close|do_sys_poll|__x64_sys_poll|__x64_sys_sendto|__x64_sys_recvfrom|ksys_read|ksys_write|__x64_sys_epoll/)
			return "kernel: sockets (FastCGI, bell)"
		if (chain ~ /exc_page_fault|handle_mm_fault/)
			return "kernel: page faults (LMDB map, heap)"
		return "kernel: other (scheduling, interrupts)"
	}
	if (leafdso ~ /liblmdb/)
		return "liblmdb"
	if (leafdso ~ /libc\.so/) {
		if (leafsym ~ /^(_int_malloc|_int_free|_int_realloc|malloc|free|cfree.*|calloc|realloc|__libc_calloc|__libc_malloc|__libc_free|__libc_realloc|unlink_chunk.*|malloc_consolidate|tcache.*|__GI___libc_malloc|__GI___libc_free)$/)
			return "libc: malloc and free"
		return "libc: other (memcpy, strings, locks)"
	}
	if (leafdso ~ /libjson-c/)
		return "json-c"
	if (leafdso ~ /libfcgi/)
		return "libfcgi"
	if (leafdso ~ /sio-fcgi/)
		return "sio-fcgi's own code"
	return "other"
}

function flush_sample()
{
	if (comm == "")
		return
	n[category(comm, leafdso, leafsym, chain)]++
	total++
	comm = ""
}

/^[^ \t]/ {
	flush_sample()
	comm = $1
	leafdso = ""
	leafsym = ""
	chain = ""
	next
}

/^[ \t]+[0-9a-f]+ / {
	dso = $NF
	gsub(/[()]/, "", dso)
	if (leafdso == "") {
		leafdso = dso
		leafsym = $2
		sub(/\+0x[0-9a-f]+$/, "", leafsym)
	}
	chain = chain " " $2
	next
}

/^$/ { flush_sample() }

END {
	flush_sample()
	if (total == 0)
		exit 1
	for (c in n)
		printf "%6.1f %%  %s\n", 100 * n[c] / total, c | "sort -rn"
	close("sort -rn")
	printf "(%d samples)\n", total
}
