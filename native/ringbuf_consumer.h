// Polls one or more BPF ring buffers on its own thread and hands JS one Buffer per batch of records.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cs {

class RingBufConsumer : public Napi::ObjectWrap<RingBufConsumer> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit RingBufConsumer(const Napi::CallbackInfo &info);
  ~RingBufConsumer() override;

 private:
  struct Batch {
    std::vector<uint8_t> bytes;
    uint32_t records = 0;
  };

  Napi::Value Stats(const Napi::CallbackInfo &info);
  Napi::Value Stop(const Napi::CallbackInfo &info);
  void Run();
  void Emit();
  void StopThread();
  static int OnSample(void *ctx, void *data, size_t size);

  struct ring_buffer *rb_ = nullptr;
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
  Batch *cur_ = nullptr;
  size_t batch_bytes_;
  int timeout_ms_;
  int max_queued_;
  std::atomic<int> queued_{0};
  std::atomic<uint64_t> records_{0}, bytes_{0}, batches_{0}, dropped_records_{0}, dropped_batches_{0};
};

}  // namespace cs
