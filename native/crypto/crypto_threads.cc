#include "crypto_threads.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

namespace nomyo {
namespace {

struct Job {
  const std::function<void()>* run;
  bool done = false;
  std::condition_variable finished;
};

struct Pool {
  std::mutex mutex;
  std::condition_variable work;
  std::deque<Job*> queue;
  unsigned started = 0;
  unsigned idle = 0;
  unsigned max_threads = 1;
};

unsigned CpusForThisProcess() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<unsigned>(count);
  }
  unsigned count = std::thread::hardware_concurrency();
  return count > 0 ? count : 1;
}

Pool& ThePool() {
  // Never destroyed: its threads end with the process.
  static Pool* pool = [] {
    auto* made = new Pool;
    made->max_threads = CpusForThisProcess();
    return made;
  }();
  return *pool;
}

// Five nice levels below the thread that started it, a threadpool thread at
// the process's own level (about a third of its CPU share). An idle core still
// runs crypto at full speed, but when the JS thread wakes to hand a response
// back or parse one, it gets the core at once instead of after the crypto
// thread's time slice. Measured with 32 responses of 1 MiB opened at once on
// 2 cores, three runs each: event-loop max delay 5.0-6.2 ms instead of
// 7.5-8.8 ms, the same RSA throughput. Lowering one's own priority needs no
// privilege; should it be refused anyway, the thread simply runs as it is.
constexpr int kNiceAboveCaller = 5;

void LowerThisThreadsPriority(int caller_nice) {
  int nice = caller_nice + kNiceAboveCaller;
  if (nice > 19) nice = 19;
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
}

void CryptoThreadMain(Pool& pool, int caller_nice) {
  pthread_setname_np(pthread_self(), "nomyo-crypto");  // for ps, top and /proc
  LowerThisThreadsPriority(caller_nice);
  std::unique_lock<std::mutex> lock(pool.mutex);
  for (;;) {
    pool.idle++;
    pool.work.wait(lock, [&] { return !pool.queue.empty(); });
    pool.idle--;
    Job* job = pool.queue.front();
    pool.queue.pop_front();
    lock.unlock();
    (*job->run)();
    lock.lock();
    job->done = true;
    // Notified under the lock: the waiting thread cannot return, and take the
    // Job off its stack, before this thread is done with it.
    job->finished.notify_one();
  }
}

}  // namespace

namespace detail {

void RunOnCryptoThread(const std::function<void()>& run) {
  Pool& pool = ThePool();
  Job job;
  job.run = &run;
  std::unique_lock<std::mutex> lock(pool.mutex);
  if (pool.idle == 0 && pool.started < pool.max_threads) {
    try {
      errno = 0;
      int caller_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
      if (errno != 0) caller_nice = 0;
      std::thread(CryptoThreadMain, std::ref(pool), caller_nice).detach();
      pool.started++;
    } catch (const std::system_error&) {
      if (pool.started == 0) {  // no crypto thread at all: run it here
        lock.unlock();
        run();
        return;
      }
    }
  }
  pool.queue.push_back(&job);
  pool.work.notify_one();
  job.finished.wait(lock, [&] { return job.done; });
}

}  // namespace detail

unsigned CryptoThreadCount() { return ThePool().max_threads; }

}  // namespace nomyo
