// Entry of the cryptoscope_bpf addon: a thin layer over libbpf (see capture/bpf/native.ts for the typed wrapper).
#include <bpf/libbpf.h>
#include <napi.h>

#include "bpf_object.h"
#include "errors.h"
#include "ringbuf_consumer.h"

namespace {
Napi::Value LibbpfVersion(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}
Napi::Value NumPossibleCpus(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  cs::InstallLibbpfLogger();
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
  exports.Set("BpfObject", cs::BpfObject::Init(env));
  exports.Set("RingBufConsumer", cs::RingBufConsumer::Init(env));
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  return exports;
}
}  // namespace

NODE_API_MODULE(cryptoscope_bpf, Init)
