// Persistent solver threads: a search job (one prefix per sub-puzzle) is split
// into nonce chunks that threads take one at a time, so their ranges never
// overlap; the first hit of a sub-puzzle wins and everyone moves to the next.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "nonce_search.h"

namespace powgate {

enum class SearchStatus { kFound, kCancelled, kExhausted };

struct SearchJob {
  // Set before submission, read-only afterwards.
  NonceSearchFn kernel = nullptr;
  uint32_t chunk = 0;  // nonces per chunk, a power of two (so a chunk never crosses 2^32)
  uint64_t limit = 0;  // nonces per sub-puzzle to try at most (0: all 2^64)
  uint64_t threshold = 0;
  std::vector<uint8_t> prefixes;  // kWorkPrefixBytes per sub-puzzle
  // Progress, at most every progress_ns, and completion; called from solver threads.
  int64_t progress_ns = 100'000'000;
  std::function<void(uint64_t hashes)> on_progress;
  std::function<void(SearchJob&)> on_done;

  // Shared state.
  std::atomic<bool> cancelled{false};
  std::atomic<uint64_t> hashes{0};
  std::vector<uint64_t> nonces;  // results, one per sub-puzzle
  SearchStatus status = SearchStatus::kFound;

  size_t SubPuzzles() const { return prefixes.size() / kWorkPrefixBytes; }

 private:
  friend class SolverPool;
  std::mutex mutex;
  size_t current = 0;       // sub-puzzle being searched (guarded by mutex)
  uint64_t next_chunk = 0;  // next chunk of the current sub-puzzle (guarded by mutex)
  uint64_t in_flight = 0;   // chunks of the current sub-puzzle being searched (guarded by mutex)
  int threads_in = 0;       // threads still working on the job (guarded by mutex)
  std::atomic<int64_t> last_progress{0};
};

class SolverPool {
 public:
  // Process-wide; never destroyed (threads may outlive module unload at exit).
  static SolverPool& Instance();

  // Runs `job` on `threads` threads (starting more if the pool has fewer).
  // on_done is called exactly once, by the last thread to leave the job.
  void Submit(std::shared_ptr<SearchJob> job, int threads);

 private:
  void Work();
  static void Run(SearchJob& job);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<SearchJob>> tickets_;  // one per thread a job asked for
  std::vector<std::thread> threads_;
};

}  // namespace powgate
