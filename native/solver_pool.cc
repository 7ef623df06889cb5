#include "solver_pool.h"

#include <chrono>

namespace powgate {

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

SolverPool& SolverPool::Instance() {
  static SolverPool* pool = new SolverPool();
  return *pool;
}

void SolverPool::Submit(std::shared_ptr<SearchJob> job, int threads) {
  {
    std::lock_guard<std::mutex> lock(job->mutex);
    job->threads_in = threads;
    job->nonces.assign(job->SubPuzzles(), 0);
  }
  job->last_progress.store(NowNs());
  std::lock_guard<std::mutex> lock(mutex_);
  while (int(threads_.size()) < threads) {
    threads_.emplace_back([this] { Work(); });
    threads_.back().detach();
  }
  for (int i = 0; i < threads; i++) tickets_.push_back(job);
  wake_.notify_all();
}

void SolverPool::Work() {
  for (;;) {
    std::shared_ptr<SearchJob> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return !tickets_.empty(); });
      job = std::move(tickets_.front());
      tickets_.pop_front();
    }
    Run(*job);
  }
}

void SolverPool::Run(SearchJob& job) {
  const uint64_t per_puzzle = job.limit;  // 0: the whole 2^64
  const uint64_t chunks = per_puzzle ? (per_puzzle + job.chunk - 1) / job.chunk : (~0ULL / job.chunk) + 1;
  NonceMidstate midstate;
  size_t midstate_puzzle = ~size_t(0);
  uint32_t midstate_hi = 0;

  while (!job.cancelled.load(std::memory_order_relaxed)) {
    size_t puzzle;
    uint64_t chunk;
    {
      std::unique_lock<std::mutex> lock(job.mutex);
      if (job.current == job.SubPuzzles()) break;
      if (job.next_chunk == chunks) {
        // Out of chunks: exhausted only once every chunk taken has come back empty.
        if (job.in_flight == 0) {
          job.status = SearchStatus::kExhausted;
          job.current = job.SubPuzzles();
          break;
        }
        lock.unlock();
        std::this_thread::yield();
        continue;
      }
      puzzle = job.current;
      chunk = job.next_chunk++;
      job.in_flight++;
    }
    const uint64_t start = chunk * job.chunk;
    const uint32_t hi = uint32_t(start >> 32), lo = uint32_t(start);
    const uint64_t left = per_puzzle ? per_puzzle - start : ~0ULL;
    const uint32_t count = left < job.chunk ? uint32_t(left) : job.chunk;
    const uint8_t* prefix = job.prefixes.data() + puzzle * kWorkPrefixBytes;
    if (puzzle != midstate_puzzle || hi != midstate_hi) {
      PrepareMidstate(prefix, hi, job.threshold, &midstate);
      midstate_puzzle = puzzle;
      midstate_hi = hi;
    }
    uint32_t found;
    const bool hit = job.kernel(midstate, prefix, hi, lo, count, &found);
    const uint64_t hashes = job.hashes.fetch_add(count, std::memory_order_relaxed) + count;
    {
      std::lock_guard<std::mutex> lock(job.mutex);
      if (job.current == puzzle) {  // a chunk of a sub-puzzle already solved counts for nothing
        job.in_flight--;
        if (hit) {  // the first hit of this sub-puzzle wins
          job.nonces[puzzle] = (uint64_t(hi) << 32) | found;
          job.current++;
          job.next_chunk = 0;
          job.in_flight = 0;
        }
      }
    }
    // One thread at a time reports progress, at most every progress_ns.
    const int64_t now = NowNs();
    int64_t last = job.last_progress.load(std::memory_order_relaxed);
    if (job.on_progress && now - last >= job.progress_ns && job.last_progress.compare_exchange_strong(last, now)) {
      job.on_progress(hashes);
    }
  }

  bool last_out;
  {
    std::lock_guard<std::mutex> lock(job.mutex);
    if (job.cancelled.load() && job.current < job.SubPuzzles()) job.status = SearchStatus::kCancelled;
    last_out = --job.threads_in == 0;
  }
  if (last_out && job.on_done) job.on_done(job);
}

}  // namespace powgate
