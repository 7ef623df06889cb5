// startSearch / cancelSearch: a nonce search on the native solver threads.
// Progress and completion come back through one thread-safe function, so the
// event loop never blocks. TypeScript validates; these checks keep memory safe.
#include <algorithm>
#include <memory>

#include "bindings.h"
#include "cpu_features.h"
#include "solver_pool.h"

namespace powgate {

namespace {

using Handle = std::shared_ptr<SearchJob>;

// About a millisecond of work per chunk on each kernel, so cancellation is prompt.
struct Kernel {
  NonceSearchFn fn;
  uint32_t chunk;
};

// A kernel is named only where its library is linked (cpu_features.h); callers pass
// an isa that IsaSupported allowed.
Kernel KernelFor(Isa isa, Tuning tuning = ChosenTuning()) {
  const bool zen = tuning == Tuning::kZen;
  if constexpr (kHaveAvx512) {
    if (isa == Isa::kAvx512) return {zen ? SearchNoncesAvx512Zen : SearchNoncesAvx512, 1u << 15};
  }
  if constexpr (kHaveAvx2) {
    if (isa == Isa::kAvx2) return {SearchNoncesAvx2, 1u << 14};
  }
  if constexpr (kHaveShaNi) {
    if (isa == Isa::kShaNi) return {zen ? SearchNoncesShaNiZen : SearchNoncesShaNi, 1u << 14};
  }
  return {SearchNoncesScalar, 1u << 11};
}

struct Event {
  bool done;
  uint64_t hashes;
  SearchStatus status;
  std::vector<uint64_t> nonces;
};

void Deliver(Napi::Env env, Napi::Function on_event, Event* event) {
  std::unique_ptr<Event> e(event);
  if (env == nullptr || on_event.IsEmpty()) return;  // the environment is going away
  Napi::Value nonces = env.Undefined();
  if (e->done) {
    Napi::Uint8Array bytes = Napi::Uint8Array::New(env, 8 * e->nonces.size());
    for (size_t i = 0; i < e->nonces.size(); i++) {
      for (int b = 0; b < 8; b++) bytes[8 * i + b] = uint8_t(e->nonces[i] >> (56 - 8 * b));  // big-endian
    }
    nonces = bytes;
  }
  on_event.Call(
      {Napi::Number::New(env, e->done ? 1 : 0), Napi::Number::New(env, double(e->hashes)), nonces, Napi::Number::New(env, int(e->status))});
}

// startSearch(isa, prefixes: Uint8Array, thresholdHi, thresholdLo, threads, limit, onEvent(done, hashes, nonces, status))
Napi::Value StartSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Isa isa;
  if (!ReadIsa(info[0], &isa)) return Fail(info, "unsupported isa");
  const uint8_t* prefixes;
  size_t prefix_bytes;
  if (!ReadArray(info, 1, napi_uint8_array, &prefixes, &prefix_bytes) || !info[2].IsNumber() || !info[3].IsNumber() ||
      !info[4].IsNumber() || !info[5].IsNumber() || !info[6].IsFunction()) {
    return Fail(info, "expected (isa, Uint8Array, number, number, number, number, function)");
  }
  const size_t puzzles = prefix_bytes / kWorkPrefixBytes;
  if (prefix_bytes % kWorkPrefixBytes != 0 || puzzles < 1 || puzzles > kMaxSubPuzzles) {
    return Fail(info, "expected 1 to 64 prefixes of 40 bytes");
  }
  const int64_t hi = info[2].As<Napi::Number>().Int64Value(), lo = info[3].As<Napi::Number>().Int64Value();
  const int64_t threads = info[4].As<Napi::Number>().Int64Value();
  const double limit = info[5].As<Napi::Number>().DoubleValue();
  if (hi < 0 || hi > 0xffffffffLL || lo < 0 || lo > 0xffffffffLL || (hi == 0 && lo == 0)) return Fail(info, "bad threshold");
  if (threads < 1 || threads > 256 || !(limit >= 0 && limit <= 9007199254740992.0)) return Fail(info, "bad threads or limit");

  auto job = std::make_shared<SearchJob>();
  const Kernel kernel = KernelFor(isa);
  job->kernel = kernel.fn;
  job->chunk = kernel.chunk;
  job->limit = uint64_t(limit);
  job->threshold = (uint64_t(hi) << 32) | uint64_t(lo);
  job->prefixes.assign(prefixes, prefixes + prefix_bytes);

  auto tsfn =
      std::make_shared<Napi::ThreadSafeFunction>(Napi::ThreadSafeFunction::New(env, info[6].As<Napi::Function>(), "powgate.search", 0, 1));
  job->on_progress = [tsfn](uint64_t hashes) { tsfn->NonBlockingCall(new Event{false, hashes, SearchStatus::kFound, {}}, Deliver); };
  job->on_done = [tsfn](SearchJob& done) {
    tsfn->BlockingCall(new Event{true, done.hashes.load(), done.status, done.nonces}, Deliver);
    tsfn->Release();
  };
  SolverPool::Instance().Submit(job, int(threads));
  return Napi::External<Handle>::New(env, new Handle(job), [](Napi::Env, Handle* handle) { delete handle; });
}

// cancelSearch(handle): the threads notice within one chunk; onEvent then reports the cancellation.
Napi::Value CancelSearch(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) return Fail(info, "expected a search handle");
  (*info[0].As<Napi::External<Handle>>().Data())->cancelled.store(true);
  return info.Env().Undefined();
}

// searchNonces(isa, prefix: Uint8Array(40), hi, lo, count, thresholdHi, thresholdLo[, tuning]): the
// lowest low word in lo .. lo + count - 1 (count <= 2^32 - lo) whose digest is below the threshold,
// or -1. Synchronous, one thread: the kernels' contract, for tests and tools. tuning 0 (Intel) or
// 1 (Zen) picks a kernel variant; absent, the CPU's (or POWGATE_TUNING's).
Napi::Value SearchNoncesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Isa isa;
  if (!ReadIsa(info[0], &isa)) return Fail(info, "unsupported isa");
  const uint8_t* prefix;
  size_t prefix_bytes;
  if (!ReadArray(info, 1, napi_uint8_array, &prefix, &prefix_bytes) || prefix_bytes != kWorkPrefixBytes) {
    return Fail(info, "expected a 40-byte prefix");
  }
  for (size_t i = 2; i < 7; i++) {
    if (!info[i].IsNumber()) return Fail(info, "expected (isa, Uint8Array, hi, lo, count, thresholdHi, thresholdLo)");
  }
  int64_t v[5];
  for (size_t i = 0; i < 5; i++) v[i] = info[i + 2].As<Napi::Number>().Int64Value();
  const int64_t hi = v[0], lo = v[1], count = v[2], th_hi = v[3], th_lo = v[4];
  const int64_t kWord = 0x100000000LL;
  if (hi < 0 || hi >= kWord || lo < 0 || lo >= kWord || count < 0 || lo + count > kWord || th_hi < 0 || th_hi >= kWord || th_lo < 0 ||
      th_lo >= kWord) {
    return Fail(info, "out of range");
  }
  const uint64_t threshold = (uint64_t(th_hi) << 32) | uint64_t(th_lo);
  NonceMidstate m;
  PrepareMidstate(prefix, uint32_t(hi), threshold, &m);
  Tuning tuning = ChosenTuning();
  if (info.Length() > 7 && !info[7].IsUndefined()) {
    if (!info[7].IsNumber()) return Fail(info, "expected a number for tuning");
    const int t = info[7].As<Napi::Number>().Int32Value();
    if (t != int(Tuning::kIntel) && t != int(Tuning::kZen)) return Fail(info, "unknown tuning");
    tuning = Tuning(t);
  }
  const NonceSearchFn kernel = KernelFor(isa, tuning).fn;
  // Kernels take at most 2^32 - 1 nonces per call.
  for (int64_t start = lo; start < lo + count;) {
    const int64_t n = std::min<int64_t>(lo + count - start, 0x80000000LL);
    uint32_t found;
    if (kernel(m, prefix, uint32_t(hi), uint32_t(start), uint32_t(n), &found)) return Napi::Number::New(env, found);
    start += n;
  }
  return Napi::Number::New(env, -1);
}

}  // namespace

void RegisterSolveBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("startSearch", Napi::Function::New(env, StartSearch, "startSearch"));
  exports.Set("cancelSearch", Napi::Function::New(env, CancelSearch, "cancelSearch"));
  exports.Set("searchNonces", Napi::Function::New(env, SearchNoncesJs, "searchNonces"));
}

}  // namespace powgate
