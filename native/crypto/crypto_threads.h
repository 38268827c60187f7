// The addon's own threads for sealing and opening: one per CPU the process may
// run on, fed from one queue.
//
// libuv's threadpool has four threads whatever the machine. On a machine with
// fewer cores, four CPU-bound jobs and the JS thread share the cores as equals,
// and the JS thread, which needs a core the moment a response is ready to
// parse, waits out scheduler slices of several ms again and again. So a
// threadpool job hands its work to a crypto thread and sleeps until it is
// done: the sleeping threadpool threads take no CPU, and at most one job per
// core runs at once. A crypto thread that finishes a job takes the next queued
// one at once; had the cap been a semaphore on the threadpool threads instead,
// each job would wait for its own thread to wake, which on a virtual machine
// often leaves the core idle for a good part of a millisecond (measured: RSA
// throughput fell from 2.0x to 1.6x).
//
// Crypto threads run a little below the JS thread's priority (see
// crypto_threads.cc). The threadpool job still carries the operation, so Node waits for it (and so
// for the crypto thread) before a worker thread's memory goes, or before
// process.exit() tears OpenSSL down.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace nomyo {

namespace detail {
// Runs `job`, which must not throw, on a crypto thread; returns when it has run.
void RunOnCryptoThread(const std::function<void()>& job);
}  // namespace detail

// f() on a crypto thread: its result, or its exception rethrown here.
template <typename F>
auto OnCryptoThread(F&& f) -> decltype(f()) {
  std::optional<decltype(f())> result;
  std::exception_ptr failure;
  detail::RunOnCryptoThread([&] {
    try {
      result.emplace(f());
    } catch (...) {
      failure = std::current_exception();
    }
  });
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

// How many crypto threads there are, or will be once started.
unsigned CryptoThreadCount();

}  // namespace nomyo
