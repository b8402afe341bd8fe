/* An LD_PRELOAD shim for LogProcessTest: fdatasync and fsync sleep
 * BALLOT_TEST_FSYNC_DELAY_MS milliseconds before doing their work, so one
 * node's syncs are slow for sure and its slow-fsync warning can be checked. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void delay(void) {
  const char* ms = getenv("BALLOT_TEST_FSYNC_DELAY_MS");
  long n = ms ? atol(ms) : 0;
  if (n <= 0)
    return;
  struct timespec ts = {n / 1000, (n % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int fdatasync(int fd) {
  static int (*real)(int) = 0;
  if (!real)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  delay();
  return real(fd);
}

int fsync(int fd) {
  static int (*real)(int) = 0;
  if (!real)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  delay();
  return real(fd);
}
