/* Handshake load for bench/wire.ts: as many TLS handshakes per second as this machine's cores allow,
 * without the per-connection overhead of openssl s_time/s_server (one process, a page per request).
 *
 *   tls_load server PORT CERT KEY WORKERS            forked workers accept on one listening socket
 *   tls_load client HOST PORT SECONDS PROCS VERSION MODE [RATE]
 *       VERSION 1.2 | 1.3; MODE full (new session each time) | resume (session resumption);
 *       RATE = connections per second over all PROCS (0 = as fast as possible)
 *
 * Each connection: TCP connect, handshake, the server writes one byte the client reads (so a TLS 1.3
 * session ticket has arrived), then the client closes with RST (SO_LINGER 0) so that hundreds of
 * thousands of connections do not exhaust ephemeral ports in TIME_WAIT. The client prints one JSON line
 * {"handshakes":N,"resumed":R,"failures":F,"seconds":S}. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
	fprintf(stderr, "tls_load: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static int serve(int argc, char **argv) {
	if (argc < 6) die("usage: server PORT CERT KEY WORKERS");
	int port = atoi(argv[2]), workers = atoi(argv[5]);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[3]) != 1 || SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1)
		die("cannot load the certificate or key");
	SSL_CTX_set_num_tickets(ctx, 1);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 4096)) die("cannot listen");
	signal(SIGPIPE, SIG_IGN);
	/* ticket keys are made with the context, before the fork: every worker resumes every session */
	for (int w = 0; w < workers; w++) {
		if (fork() != 0) continue;
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the server process */
		for (;;) {
			int c = accept(ls, NULL, NULL);
			if (c < 0) continue;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			SSL *s = SSL_new(ctx);
			SSL_set_fd(s, c);
			if (SSL_accept(s) == 1 && SSL_write(s, "x", 1) == 1) SSL_shutdown(s);
			SSL_free(s);
			close(c);
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (wait(NULL) > 0) {}
	return 0;
}

static int client(int argc, char **argv) {
	if (argc < 8) die("usage: client HOST PORT SECONDS PROCS VERSION MODE [RATE]");
	const char *host = argv[2];
	int port = atoi(argv[3]), procs = atoi(argv[5]);
	double seconds = atof(argv[4]), rate = argc > 8 ? atof(argv[8]) : 0;
	int v13 = strcmp(argv[6], "1.3") == 0, resume = strcmp(argv[7], "resume") == 0;
	long *counts = mmap(NULL, sizeof(long) * 3 * procs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double t0 = now_s();
	for (int p = 0; p < procs; p++) {
		if (fork() != 0) continue;
		SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_min_proto_version(ctx, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(ctx, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_SESSION *sess = NULL;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		inet_pton(AF_INET, host, &a.sin_addr);
		struct linger lg = { 1, 0 };
		long n = 0, fail = 0, reused = 0;
		double per = rate > 0 ? procs / rate : 0, next = t0;
		while (now_s() - t0 < seconds) {
			if (per > 0) {
				next += per;
				double wait_s = next - now_s();
				if (wait_s > 0) usleep((useconds_t)(wait_s * 1e6));
			}
			int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (connect(c, (struct sockaddr *)&a, sizeof(a))) { close(c); fail++; continue; }
			SSL *s = SSL_new(ctx);
			SSL_set_fd(s, c);
			if (resume && sess) SSL_set_session(s, sess);
			char b;
			if (SSL_connect(s) == 1 && SSL_read(s, &b, 1) == 1) {
				n++;
				reused += SSL_session_reused(s);
				SSL_shutdown(s); /* a session closed without close_notify is not resumable */
				if (resume) {
					SSL_SESSION *got = SSL_get1_session(s);
					if (got) { SSL_SESSION_free(sess); sess = got; }
				}
			} else {
				fail++;
				ERR_clear_error();
			}
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			SSL_free(s);
			close(c);
		}
		counts[3 * p] = n;
		counts[3 * p + 1] = fail;
		counts[3 * p + 2] = reused;
		_exit(0);
	}
	while (wait(NULL) > 0) {}
	long n = 0, fail = 0, reused = 0;
	for (int p = 0; p < procs; p++) { n += counts[3 * p]; fail += counts[3 * p + 1]; reused += counts[3 * p + 2]; }
	printf("{\"handshakes\":%ld,\"resumed\":%ld,\"failures\":%ld,\"seconds\":%.3f}\n", n, reused, fail, now_s() - t0);
	return 0;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "server") == 0) return serve(argc, argv);
	if (argc > 1 && strcmp(argv[1], "client") == 0) return client(argc, argv);
	die("usage: tls_load server|client ...");
	return 2;
}
