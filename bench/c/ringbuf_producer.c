/* Ring-buffer benchmark load: waits for a line on stdin (so the consumer can filter on its pid), then
 * calls getppid() CALLS times, paced to CALLS_PER_SEC (0 = as fast as possible); each call makes
 * ringbuf_bench.bpf.o emit `burst` 64-byte records. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 100000;
	double rate = argc > 2 ? atof(argv[2]) : 0;
	char line[16];
	if (!fgets(line, sizeof(line), stdin)) return 1;
	struct timespec t0, next;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		syscall(SYS_getppid);
		if (rate > 0 && (i & 15) == 15) { /* keep the schedule every 16 calls */
			double at = (i + 1) / rate;
			long long ns = t0.tv_nsec + (long long)(at * 1e9);
			next.tv_sec = t0.tv_sec + ns / 1000000000LL;
			next.tv_nsec = ns % 1000000000LL;
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
	}
	printf("done %ld\n", n);
	return 0;
}
