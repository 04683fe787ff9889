/* Baseline for bench/ringbuf.ts: the same BPF producer consumed by plain C with libbpf's ring_buffer__poll
 * and a per-record callback that only counts. Prints one JSON line. */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringbuf_bench.skel.h"

static unsigned long long received, first_ns, last_ns;

static unsigned long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int on_rec(void *ctx, void *data, size_t len) {
	if (!received) first_ns = now_ns();
	received++;
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 4) { fprintf(stderr, "usage: %s PRODUCER CALLS BURST [PACE_US]\n", argv[0]); return 2; }
	int to_child[2];
	if (pipe(to_child)) return 1;
	pid_t child = fork();
	if (child == 0) {
		dup2(to_child[0], 0);
		close(to_child[1]);
		execl(argv[1], argv[1], argv[2], argc > 4 ? argv[4] : "0", (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	struct ringbuf_bench_bpf *skel = ringbuf_bench_bpf__open();
	if (!skel) { perror("open"); return 1; }
	skel->rodata->target_tgid = child;
	skel->rodata->burst = atoi(argv[3]);
	if (ringbuf_bench_bpf__load(skel) || ringbuf_bench_bpf__attach(skel)) { perror("load/attach"); return 1; }
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_rec, NULL, NULL);
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	if (write(to_child[1], "go\n", 3) != 3) return 1;
	int status, done = 0;
	unsigned long long idle_since = 0;
	for (;;) {
		int n = ring_buffer__poll(rb, 10);
		if (n == 0) n = ring_buffer__consume(rb); /* below the wake-up threshold: consume on timeout */
		if (n > 0) { last_ns = now_ns(); idle_since = 0; }
		if (!done && waitpid(child, &status, WNOHANG) == child) done = 1;
		if (done) {
			if (!idle_since) idle_since = now_ns();
			else if (now_ns() - idle_since > 200000000ULL) break;
		}
	}
	getrusage(RUSAGE_SELF, &r1);
	unsigned int zero = 0;
	unsigned long long produced = 0;
	bpf_map__lookup_elem(skel->maps.produced, &zero, sizeof(zero), &produced, sizeof(produced), 0);
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long drops_v[256] = {0}, drops = 0;
	bpf_map__lookup_elem(skel->maps.drops, &zero, sizeof(zero), drops_v, sizeof(unsigned long long) * ncpu, 0);
	for (int i = 0; i < ncpu; i++) drops += drops_v[i];
	double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
		     (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
	double secs = (last_ns - first_ns) / 1e9;
	printf("{\"received\":%llu,\"produced\":%llu,\"kernelDrops\":%llu,\"seconds\":%.4f,\"cpuSeconds\":%.4f}\n",
	       received, produced, drops, secs, cpu);
	ring_buffer__free(rb);
	ringbuf_bench_bpf__destroy(skel);
	return 0;
}
