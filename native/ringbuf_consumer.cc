#include "ringbuf_consumer.h"

#include <cerrno>
#include <cstring>

#include "bpf_object.h"
#include "errors.h"

namespace cs {

Napi::Function RingBufConsumer::Init(Napi::Env env) {
  return DefineClass(env, "RingBufConsumer",
                     {InstanceMethod("stats", &RingBufConsumer::Stats), InstanceMethod("stop", &RingBufConsumer::Stop)});
}

// new RingBufConsumer(bpfObject, [mapNames], {batchBytes, timeoutMs, maxQueuedBatches}, onBatch(buffer, records))
// Each batch is a sequence of [u32 little-endian length][record bytes], each entry padded to 4 bytes.
RingBufConsumer::RingBufConsumer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RingBufConsumer>(info) {
  Napi::Env env = info.Env();
  BpfObject *obj = Napi::ObjectWrap<BpfObject>::Unwrap(info[0].As<Napi::Object>());
  Napi::Array names = info[1].As<Napi::Array>();
  Napi::Object opts = info[2].As<Napi::Object>();
  Napi::Function cb = info[3].As<Napi::Function>();
  auto num = [&](const char *k, double d) { return opts.Get(k).IsNumber() ? opts.Get(k).As<Napi::Number>().DoubleValue() : d; };
  batch_bytes_ = (size_t)num("batchBytes", 256 * 1024);
  timeout_ms_ = (int)num("timeoutMs", 50);
  max_queued_ = (int)num("maxQueuedBatches", 64);
  if (names.Length() == 0) throw Napi::Error::New(env, "RingBufConsumer: no ring buffer maps given");
  for (uint32_t i = 0; i < names.Length(); i++) {
    struct bpf_map *m = obj->FindMap(env, names.Get(i).As<Napi::String>().Utf8Value());
    if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF)
      throw Napi::Error::New(env, std::string("map ") + bpf_map__name(m) + " is not a ring buffer");
    int fd = bpf_map__fd(m);
    if (fd < 0) throw Napi::Error::New(env, "RingBufConsumer: load the object before consuming its ring buffers");
    ClearLibbpfLog();
    if (!rb_) {
      rb_ = ring_buffer__new(fd, OnSample, this, nullptr);
      if (!rb_) ThrowBpfError(env, std::string("open ring buffer ") + bpf_map__name(m), errno);
    } else if (ring_buffer__add(rb_, fd, OnSample, this)) {
      ThrowBpfError(env, std::string("add ring buffer ") + bpf_map__name(m), errno);
    }
  }
  tsfn_ = Napi::ThreadSafeFunction::New(env, cb, "cryptoscope-ringbuf", 0, 1);
  cur_ = new Batch();
  cur_->bytes.reserve(batch_bytes_ + 4096);
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

RingBufConsumer::~RingBufConsumer() {
  StopThread();
  delete cur_;
}

int RingBufConsumer::OnSample(void *ctx, void *data, size_t size) {
  auto *self = static_cast<RingBufConsumer *>(ctx);
  Batch *b = self->cur_;
  size_t off = b->bytes.size();
  size_t padded = (size + 3) & ~size_t(3);
  b->bytes.resize(off + 4 + padded);
  uint32_t len = (uint32_t)size;
  memcpy(b->bytes.data() + off, &len, 4);
  memcpy(b->bytes.data() + off + 4, data, size);
  b->records++;
  if (b->bytes.size() >= self->batch_bytes_ * 4) self->Emit();  // never let one batch grow without bound
  return 0;
}

// Hands the current batch to JS, or counts it as dropped when JS is too far behind (bounded queue).
void RingBufConsumer::Emit() {
  Batch *b = cur_;
  if (b->records == 0) return;
  cur_ = new Batch();
  cur_->bytes.reserve(batch_bytes_ + 4096);
  records_ += b->records;
  bytes_ += b->bytes.size();
  if (queued_.load() >= max_queued_) {
    dropped_records_ += b->records;
    dropped_batches_++;
    delete b;
    return;
  }
  queued_++;
  batches_++;
  napi_status st = tsfn_.NonBlockingCall(b, [this](Napi::Env env, Napi::Function fn, Batch *batch) {
    queued_--;
    uint32_t n = batch->records;
    auto *owned = new std::vector<uint8_t>(std::move(batch->bytes));
    delete batch;
    auto buf = Napi::Buffer<uint8_t>::New(env, owned->data(), owned->size(),
                                          [](Napi::Env, uint8_t *, std::vector<uint8_t> *v) { delete v; }, owned);
    fn.Call({buf, Napi::Number::New(env, n)});
  });
  if (st != napi_ok) {
    queued_--;
    dropped_records_ += b->records;
    dropped_batches_++;
    delete b;
  }
}

void RingBufConsumer::Run() {
  while (!stop_.load()) {
    int n = ring_buffer__poll(rb_, timeout_ms_);
    if (n < 0 && n != -EINTR) break;
    // Producers submit with BPF_RB_NO_WAKEUP below their threshold: on a timeout, consume what waits.
    if (n == 0) n = ring_buffer__consume(rb_);
    // Woken by the producer's threshold or by the timeout: whatever was consumed goes out as one batch.
    if (cur_->bytes.size() >= batch_bytes_ || n == 0 || stop_.load()) Emit();
  }
  ring_buffer__consume(rb_);
  Emit();
}

void RingBufConsumer::StopThread() {
  if (!started_) return;
  started_ = false;
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ring_buffer__free(rb_);
  rb_ = nullptr;
  tsfn_.Release();
}

Napi::Value RingBufConsumer::Stop(const Napi::CallbackInfo &info) {
  StopThread();
  return info.Env().Undefined();
}

Napi::Value RingBufConsumer::Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("records", Napi::Number::New(env, (double)records_.load()));
  o.Set("bytes", Napi::Number::New(env, (double)bytes_.load()));
  o.Set("batches", Napi::Number::New(env, (double)batches_.load()));
  o.Set("queuedBatches", Napi::Number::New(env, queued_.load()));
  o.Set("droppedRecords", Napi::Number::New(env, (double)dropped_records_.load()));
  o.Set("droppedBatches", Napi::Number::New(env, (double)dropped_batches_.load()));
  return o;
}

}  // namespace cs
