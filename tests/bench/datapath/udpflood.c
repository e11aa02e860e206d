// Fixed-rate UDP generator and sink of tests/bench/datapath/run.sh (compiled by the script into its temp dir).
//   udpflood send DST PORT SRC RATE SECONDS  - RATE packets/s (18-byte payload) from SRC to DST:PORT for SECONDS,
//                                             round robin over 64 sockets (64 source ports, so a client_ip_port
//                                             rule spreads them over the buckets); prints the packets sent
//   udpflood sink PORT SECONDS               - receives on PORT until SECONDS have passed; prints the packets read
// Pacing: every millisecond the sender catches up to RATE * elapsed, so the rate holds on a busy machine as long as
// the sender gets CPU (it prints what it really sent).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int sender(const char *dst, int port, const char *src, double rate, double seconds) {
  enum { SOCKETS = 64 };
  int fds[SOCKETS];
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)}, from = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, dst, &to.sin_addr) != 1 || inet_pton(AF_INET, src, &from.sin_addr) != 1) {
    fprintf(stderr, "udpflood: bad address\n");
    return 2;
  }
  for (int i = 0; i < SOCKETS; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
    if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&from, sizeof from) != 0 ||
        connect(fds[i], (struct sockaddr *)&to, sizeof to) != 0) {
      perror("udpflood: socket");
      return 1;
    }
  }
  char payload[18];
  memset(payload, 'x', sizeof payload);
  long sent = 0, failed = 0;
  double start = now(), end = start + seconds;
  struct timespec tick = {0, 1000000};
  for (double t = start; t < end; t = now()) {
    long due = (long)((t - start) * rate);
    while (sent + failed < due) {
      if (send(fds[(sent + failed) % SOCKETS], payload, sizeof payload, 0) < 0) failed++; else sent++;
    }
    nanosleep(&tick, NULL);
  }
  printf("%ld %ld %.3f\n", sent, failed, now() - start);
  return 0;
}

static int sink(int port, double seconds) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  struct timeval tv = {0, 200000};
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (bind(fd, (struct sockaddr *)&at, sizeof at) != 0) {
    perror("udpflood: bind");
    return 1;
  }
  enum { BATCH = 64 };
  static char data[BATCH][64];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  long got = 0;
  double end = now() + seconds;
  while (now() < end) {
    for (int i = 0; i < BATCH; i++) {
      iov[i] = (struct iovec){data[i], sizeof data[i]};
      msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (n > 0) got += n;
  }
  printf("%ld\n", got);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 7 && strcmp(argv[1], "send") == 0) return sender(argv[2], atoi(argv[3]), argv[4], atof(argv[5]), atof(argv[6]));
  if (argc == 4 && strcmp(argv[1], "sink") == 0) return sink(atoi(argv[2]), atof(argv[3]));
  fprintf(stderr, "usage: udpflood send DST PORT SRC RATE SECONDS | udpflood sink PORT SECONDS\n");
  return 2;
}
