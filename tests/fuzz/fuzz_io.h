/*
 * fuzz_io.h - hands a fuzz input to code that reads files by path.
 *
 * The trace reader and the policy resolver open paths, not buffers. Each
 * input is written to one memfd (memfd_create(2): a file in memory, no
 * disk traffic) that lives for the whole fuzzing process; its
 * /proc/self/fd/N name opens a fresh description at offset 0, so the code
 * under test reads exactly this input.
 */
#ifndef MEMSIM_FUZZ_IO_H
#define MEMSIM_FUZZ_IO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_file {
	int fd;
	char path[64];
};

/* Replaces the contents of f (created on first use) with data[0, size)
 * and returns its path. Aborts when the system refuses: that is a broken
 * fuzzing host, not a finding in memsim. */
static inline const char *fuzz_file_set(struct fuzz_file *f, const uint8_t *data,
					size_t size)
{
	size_t done = 0;

	if (f->path[0] == '\0') {
		f->fd = memfd_create("memsim-fuzz", MFD_CLOEXEC);
		if (f->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0) != 0) {
		perror("ftruncate");
		abort();
	}
	while (done < size) {
		ssize_t n = pwrite(f->fd, data + done, size - done, (off_t)done);

		if (n <= 0) {
			perror("pwrite");
			abort();
		}
		done += (size_t)n;
	}
	return f->path;
}

#endif
