// A BPF object (one .bpf.o) with its programs, maps and the links attached from it.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <map>
#include <string>
#include <vector>

namespace cs {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit BpfObject(const Napi::CallbackInfo &info);
  ~BpfObject() override;

  struct bpf_object *obj() const { return obj_; }
  struct bpf_map *FindMap(Napi::Env env, const std::string &name) const;

 private:
  struct TcAttachment {
    std::string netns;  // empty = current namespace
    int ifindex;
    bpf_tc_attach_point point;
    uint32_t handle, priority;
    bool created_hook;
  };

  Napi::Value SetRodata(const Napi::CallbackInfo &info);
  Napi::Value Load(const Napi::CallbackInfo &info);
  Napi::Value Programs(const Napi::CallbackInfo &info);
  Napi::Value Maps(const Napi::CallbackInfo &info);
  Napi::Value AttachUprobe(const Napi::CallbackInfo &info);
  Napi::Value AttachUsdt(const Napi::CallbackInfo &info);
  Napi::Value AttachTracepoint(const Napi::CallbackInfo &info);
  Napi::Value AttachTc(const Napi::CallbackInfo &info);
  Napi::Value AttachCgroup(const Napi::CallbackInfo &info);
  Napi::Value Detach(const Napi::CallbackInfo &info);
  Napi::Value MapLookup(const Napi::CallbackInfo &info);
  Napi::Value MapUpdate(const Napi::CallbackInfo &info);
  Napi::Value MapDelete(const Napi::CallbackInfo &info);
  Napi::Value MapKeys(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);

  void CloseAll();
  struct bpf_program *FindProgram(Napi::Env env, const std::string &name) const;
  void RequireLoaded(Napi::Env env, bool loaded, const char *what) const;
  int AddLink(Napi::Env env, struct bpf_link *link, const std::string &what);
  void DetachTc(const TcAttachment &tc);

  struct bpf_object *obj_ = nullptr;
  std::vector<char> buffer_;  // the ELF image when opened from memory: libbpf reads it until load
  std::string name_;
  bool loaded_ = false;
  int next_id_ = 1;
  std::map<int, struct bpf_link *> links_;
  std::map<int, TcAttachment> tcs_;
};

}  // namespace cs
