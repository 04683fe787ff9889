#include "bpf_object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"

namespace cs {
namespace {

std::string OptString(const Napi::Object &o, const char *key, const std::string &dflt = "") {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : dflt;
}
int64_t OptInt(const Napi::Object &o, const char *key, int64_t dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsNumber()) return v.As<Napi::Number>().Int64Value();
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  return dflt;
}
uint64_t OptU64(const Napi::Object &o, const char *key, uint64_t dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsNumber()) return (uint64_t)v.As<Napi::Number>().Int64Value();
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return dflt;
}
bool OptBool(const Napi::Object &o, const char *key, bool dflt) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}

// Runs fn inside the named network namespace (/run/netns/NAME) and switches back; only this thread moves.
template <typename F>
int InNetns(const std::string &netns, F fn, std::string *err_what) {
  if (netns.empty()) return fn();
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    *err_what = "open own network namespace";
    return -errno;
  }
  std::string path = netns[0] == '/' ? netns : "/run/netns/" + netns;
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(self);
    *err_what = "open network namespace " + path;
    return -e;
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int e = errno;
    close(self);
    close(target);
    *err_what = "enter network namespace " + path;
    return -e;
  }
  int rc = fn();
  if (setns(self, CLONE_NEWNET) != 0) abort();  // never leave the Node thread in a foreign namespace
  close(self);
  close(target);
  return rc;
}

}  // namespace

Napi::Function BpfObject::Init(Napi::Env env) {
  return DefineClass(env, "BpfObject",
                     {
                         InstanceMethod("setRodata", &BpfObject::SetRodata),
                         InstanceMethod("load", &BpfObject::Load),
                         InstanceMethod("programs", &BpfObject::Programs),
                         InstanceMethod("maps", &BpfObject::Maps),
                         InstanceMethod("attachUprobe", &BpfObject::AttachUprobe),
                         InstanceMethod("attachUsdt", &BpfObject::AttachUsdt),
                         InstanceMethod("attachTracepoint", &BpfObject::AttachTracepoint),
                         InstanceMethod("attachTc", &BpfObject::AttachTc),
                         InstanceMethod("attachCgroup", &BpfObject::AttachCgroup),
                         InstanceMethod("detach", &BpfObject::Detach),
                         InstanceMethod("mapLookup", &BpfObject::MapLookup),
                         InstanceMethod("mapUpdate", &BpfObject::MapUpdate),
                         InstanceMethod("mapDelete", &BpfObject::MapDelete),
                         InstanceMethod("mapKeys", &BpfObject::MapKeys),
                         InstanceMethod("close", &BpfObject::Close),
                     });
}

// new BpfObject(pathOrBuffer, name)
BpfObject::BpfObject(const Napi::CallbackInfo &info) : Napi::ObjectWrap<BpfObject>(info) {
  Napi::Env env = info.Env();
  name_ = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "bpf";
  ClearLibbpfLog();
  if (info.Length() > 0 && info[0].IsString()) {
    std::string path = info[0].As<Napi::String>().Utf8Value();
    obj_ = bpf_object__open_file(path.c_str(), nullptr);
    if (!obj_) ThrowBpfError(env, "open BPF object " + path, errno);
  } else if (info.Length() > 0 && info[0].IsBuffer()) {
    auto buf = info[0].As<Napi::Buffer<char>>();
    buffer_.assign(buf.Data(), buf.Data() + buf.Length());
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name_.c_str());
    obj_ = bpf_object__open_mem(buffer_.data(), buffer_.size(), &opts);
    if (!obj_) ThrowBpfError(env, "open BPF object " + name_ + " from memory", errno);
  } else {
    throw Napi::TypeError::New(env, "BpfObject(pathOrBuffer, name): expected a path or a Buffer");
  }
}

BpfObject::~BpfObject() { CloseAll(); }

void BpfObject::CloseAll() {
  for (auto &[id, link] : links_) bpf_link__destroy(link);
  links_.clear();
  for (auto &[id, tc] : tcs_) DetachTc(tc);
  tcs_.clear();
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  buffer_.clear();
}

void BpfObject::RequireLoaded(Napi::Env env, bool loaded, const char *what) const {
  if (!obj_) throw Napi::Error::New(env, std::string(what) + ": the BPF object " + name_ + " is closed");
  if (loaded_ != loaded)
    throw Napi::Error::New(env, std::string(what) + (loaded ? " needs a loaded object: call load() first"
                                                            : " must happen before load()"));
}

struct bpf_program *BpfObject::FindProgram(Napi::Env env, const std::string &name) const {
  struct bpf_program *p = bpf_object__find_program_by_name(obj_, name.c_str());
  if (!p) throw Napi::Error::New(env, "no program named " + name + " in " + name_);
  return p;
}

struct bpf_map *BpfObject::FindMap(Napi::Env env, const std::string &name) const {
  if (!obj_) throw Napi::Error::New(env, "the BPF object " + name_ + " is closed");
  struct bpf_map *m = bpf_object__find_map_by_name(obj_, name.c_str());
  if (!m) throw Napi::Error::New(env, "no map named " + name + " in " + name_);
  return m;
}

int BpfObject::AddLink(Napi::Env env, struct bpf_link *link, const std::string &what) {
  if (!link) ThrowBpfError(env, what, errno);
  int id = next_id_++;
  links_[id] = link;
  return id;
}

// setRodata(varName, Buffer): sets a `const volatile` global before load, located through the BTF of .rodata.
Napi::Value BpfObject::SetRodata(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, false, "setRodata");
  std::string var = info[0].As<Napi::String>().Utf8Value();
  auto value = info[1].As<Napi::Buffer<uint8_t>>();
  const struct btf *btf = bpf_object__btf(obj_);
  if (!btf) throw Napi::Error::New(env, name_ + " has no BTF: build it with clang -g");
  struct bpf_map *map = nullptr, *m;
  bpf_object__for_each_map(m, obj_) {
    const char *n = bpf_map__name(m);
    size_t len = strlen(n);
    if (bpf_map__is_internal(m) && len >= 7 && strcmp(n + len - 7, ".rodata") == 0) map = m;
  }
  if (!map) throw Napi::Error::New(env, name_ + " has no .rodata section (no const volatile globals)");
  int sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
  if (sec_id < 0) throw Napi::Error::New(env, name_ + ": no .rodata in BTF");
  const struct btf_type *sec = btf__type_by_id(btf, sec_id);
  const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
  for (int i = 0; i < btf_vlen(sec); i++, vs++) {
    const struct btf_type *t = btf__type_by_id(btf, vs->type);
    if (strcmp(btf__name_by_offset(btf, t->name_off), var.c_str()) != 0) continue;
    if (vs->size != value.Length())
      throw Napi::Error::New(env, "setRodata " + var + ": size " + std::to_string(value.Length()) +
                                      " does not match " + std::to_string(vs->size));
    size_t sz = 0;
    char *data = (char *)bpf_map__initial_value(map, &sz);
    if (!data || vs->offset + vs->size > sz) throw Napi::Error::New(env, "setRodata " + var + ": out of range");
    memcpy(data + vs->offset, value.Data(), vs->size);
    return env.Undefined();
  }
  throw Napi::Error::New(env, "no const volatile variable named " + var + " in " + name_);
}

Napi::Value BpfObject::Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, false, "load");
  ClearLibbpfLog();
  int err = bpf_object__load(obj_);
  if (err) ThrowBpfError(env, "load BPF object " + name_, err);
  loaded_ = true;
  buffer_.clear();
  buffer_.shrink_to_fit();
  return env.Undefined();
}

Napi::Value BpfObject::Programs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!obj_) throw Napi::Error::New(env, "the BPF object is closed");
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  struct bpf_program *p;
  bpf_object__for_each_program(p, obj_) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_program__name(p));
    o.Set("section", bpf_program__section_name(p));
    const char *t = libbpf_bpf_prog_type_str(bpf_program__type(p));
    o.Set("type", t ? t : "unknown");
    out.Set(i++, o);
  }
  return out;
}

Napi::Value BpfObject::Maps(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!obj_) throw Napi::Error::New(env, "the BPF object is closed");
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  struct bpf_map *m;
  bpf_object__for_each_map(m, obj_) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_map__name(m));
    const char *t = libbpf_bpf_map_type_str(bpf_map__type(m));
    o.Set("type", t ? t : "unknown");
    o.Set("keySize", bpf_map__key_size(m));
    o.Set("valueSize", bpf_map__value_size(m));
    o.Set("maxEntries", bpf_map__max_entries(m));
    o.Set("fd", loaded_ ? bpf_map__fd(m) : -1);
    out.Set(i++, o);
  }
  return out;
}

// attachUprobe(prog, {binary, symbol?, offset?, pid?, retprobe?, cookie?}) -> link id
Napi::Value BpfObject::AttachUprobe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "attachUprobe");
  struct bpf_program *prog = FindProgram(env, info[0].As<Napi::String>().Utf8Value());
  Napi::Object o = info[1].As<Napi::Object>();
  std::string binary = OptString(o, "binary"), symbol = OptString(o, "symbol");
  bool ret = OptBool(o, "retprobe", false);
  LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = OptU64(o, "cookie", 0), .retprobe = ret,
              .func_name = symbol.empty() ? nullptr : symbol.c_str());
  ClearLibbpfLog();
  struct bpf_link *l = bpf_program__attach_uprobe_opts(prog, (pid_t)OptInt(o, "pid", -1), binary.c_str(),
                                                       (size_t)OptU64(o, "offset", 0), &opts);
  std::string where = binary + ":" + (symbol.empty() ? std::to_string(OptU64(o, "offset", 0)) : symbol);
  return Napi::Number::New(env, AddLink(env, l, std::string("attach ") + (ret ? "uretprobe " : "uprobe ") + where));
}

// attachUsdt(prog, {binary, provider, name, pid?, cookie?})
Napi::Value BpfObject::AttachUsdt(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "attachUsdt");
  struct bpf_program *prog = FindProgram(env, info[0].As<Napi::String>().Utf8Value());
  Napi::Object o = info[1].As<Napi::Object>();
  std::string binary = OptString(o, "binary"), provider = OptString(o, "provider"), name = OptString(o, "name");
  LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = OptU64(o, "cookie", 0));
  ClearLibbpfLog();
  struct bpf_link *l = bpf_program__attach_usdt(prog, (pid_t)OptInt(o, "pid", -1), binary.c_str(),
                                                provider.c_str(), name.c_str(), &opts);
  return Napi::Number::New(env, AddLink(env, l, "attach USDT " + provider + ":" + name + " in " + binary));
}

// attachTracepoint(prog, category, name)
Napi::Value BpfObject::AttachTracepoint(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "attachTracepoint");
  struct bpf_program *prog = FindProgram(env, info[0].As<Napi::String>().Utf8Value());
  std::string cat = info[1].As<Napi::String>().Utf8Value(), name = info[2].As<Napi::String>().Utf8Value();
  ClearLibbpfLog();
  struct bpf_link *l = bpf_program__attach_tracepoint(prog, cat.c_str(), name.c_str());
  return Napi::Number::New(env, AddLink(env, l, "attach tracepoint " + cat + "/" + name));
}

// attachTc(prog, {ifname | ifindex, netns?, direction: "ingress"|"egress", priority?, handle?})
Napi::Value BpfObject::AttachTc(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "attachTc");
  struct bpf_program *prog = FindProgram(env, info[0].As<Napi::String>().Utf8Value());
  Napi::Object o = info[1].As<Napi::Object>();
  TcAttachment tc{};
  tc.netns = OptString(o, "netns");
  std::string ifname = OptString(o, "ifname"), dir = OptString(o, "direction", "ingress");
  if (dir != "ingress" && dir != "egress") throw Napi::Error::New(env, "attachTc: direction must be ingress or egress");
  tc.point = dir == "ingress" ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  tc.priority = (uint32_t)OptInt(o, "priority", 1);
  tc.handle = (uint32_t)OptInt(o, "handle", 1);
  std::string what;
  int prog_fd = bpf_program__fd(prog);
  ClearLibbpfLog();
  int rc = InNetns(
      tc.netns,
      [&]() -> int {
        tc.ifindex = ifname.empty() ? (int)OptInt(o, "ifindex", 0) : (int)if_nametoindex(ifname.c_str());
        if (tc.ifindex <= 0) {
          what = "interface " + ifname + " not found" + (tc.netns.empty() ? "" : " in netns " + tc.netns);
          return -ENOENT;
        }
        LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tc.ifindex, .attach_point = tc.point);
        int err = bpf_tc_hook_create(&hook);
        if (err && err != -EEXIST) {
          what = "create clsact qdisc on " + ifname;
          return err;
        }
        tc.created_hook = err == 0;
        LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE, .handle = tc.handle,
                    .priority = tc.priority);
        err = bpf_tc_attach(&hook, &opts);
        if (err) what = "attach TC " + dir + " on " + ifname;
        return err;
      },
      &what);
  if (rc) ThrowBpfError(env, what + (tc.netns.empty() ? "" : " (netns " + tc.netns + ")"), rc);
  int id = next_id_++;
  tcs_[id] = tc;
  return Napi::Number::New(env, id);
}

void BpfObject::DetachTc(const TcAttachment &tc) {
  std::string what;
  InNetns(
      tc.netns,
      [&]() -> int {
        LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tc.ifindex, .attach_point = tc.point);
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = tc.handle, .priority = tc.priority);
        bpf_tc_detach(&hook, &opts);
        if (tc.created_hook) {
          // Only remove the clsact qdisc we created; destroying both points removes the qdisc itself.
          hook.attach_point = (bpf_tc_attach_point)(BPF_TC_INGRESS | BPF_TC_EGRESS);
          bpf_tc_hook_destroy(&hook);
        }
        return 0;
      },
      &what);
}

// attachCgroup(prog, cgroupPath)
Napi::Value BpfObject::AttachCgroup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "attachCgroup");
  struct bpf_program *prog = FindProgram(env, info[0].As<Napi::String>().Utf8Value());
  std::string path = info[1].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowBpfError(env, "open cgroup " + path, errno);
  ClearLibbpfLog();
  struct bpf_link *l = bpf_program__attach_cgroup(prog, fd);
  int e = errno;
  close(fd);
  errno = e;
  return Napi::Number::New(env, AddLink(env, l, "attach cgroup program to " + path));
}

Napi::Value BpfObject::Detach(const Napi::CallbackInfo &info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  if (auto it = links_.find(id); it != links_.end()) {
    bpf_link__destroy(it->second);
    links_.erase(it);
    return Napi::Boolean::New(info.Env(), true);
  }
  if (auto it = tcs_.find(id); it != tcs_.end()) {
    DetachTc(it->second);
    tcs_.erase(it);
    return Napi::Boolean::New(info.Env(), true);
  }
  return Napi::Boolean::New(info.Env(), false);
}

namespace {
size_t ValueBytes(struct bpf_map *m) {
  enum bpf_map_type t = bpf_map__type(m);
  bool percpu = t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  size_t v = bpf_map__value_size(m);
  return percpu ? ((v + 7) / 8 * 8) * libbpf_num_possible_cpus() : v;
}
}  // namespace

// mapLookup(map, key) -> Buffer | null (per-CPU maps: one 8-byte-aligned slot per possible CPU)
Napi::Value BpfObject::MapLookup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "mapLookup");
  struct bpf_map *m = FindMap(env, info[0].As<Napi::String>().Utf8Value());
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  if (key.Length() != bpf_map__key_size(m)) throw Napi::Error::New(env, "mapLookup: key size mismatch");
  auto out = Napi::Buffer<uint8_t>::New(env, ValueBytes(m));
  int err = bpf_map_lookup_elem(bpf_map__fd(m), key.Data(), out.Data());
  if (err) {
    if (errno == ENOENT) return env.Null();
    ThrowBpfError(env, std::string("lookup in map ") + bpf_map__name(m), errno);
  }
  return out;
}

// mapUpdate(map, key, value, flags?)
Napi::Value BpfObject::MapUpdate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "mapUpdate");
  struct bpf_map *m = FindMap(env, info[0].As<Napi::String>().Utf8Value());
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  auto val = info[2].As<Napi::Buffer<uint8_t>>();
  uint64_t flags = info.Length() > 3 && info[3].IsNumber() ? (uint64_t)info[3].As<Napi::Number>().Int64Value() : (uint64_t)BPF_ANY;
  if (key.Length() != bpf_map__key_size(m) || val.Length() != ValueBytes(m))
    throw Napi::Error::New(env, "mapUpdate: key or value size mismatch");
  if (bpf_map_update_elem(bpf_map__fd(m), key.Data(), val.Data(), flags))
    ThrowBpfError(env, std::string("update map ") + bpf_map__name(m), errno);
  return env.Undefined();
}

Napi::Value BpfObject::MapDelete(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "mapDelete");
  struct bpf_map *m = FindMap(env, info[0].As<Napi::String>().Utf8Value());
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  if (bpf_map_delete_elem(bpf_map__fd(m), key.Data())) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowBpfError(env, std::string("delete from map ") + bpf_map__name(m), errno);
  }
  return Napi::Boolean::New(env, true);
}

// mapKeys(map) -> Buffer[]
Napi::Value BpfObject::MapKeys(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireLoaded(env, true, "mapKeys");
  struct bpf_map *m = FindMap(env, info[0].As<Napi::String>().Utf8Value());
  size_t ks = bpf_map__key_size(m);
  std::vector<uint8_t> cur(ks), next(ks);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  void *prev = nullptr;
  while (bpf_map_get_next_key(bpf_map__fd(m), prev, next.data()) == 0) {
    out.Set(i++, Napi::Buffer<uint8_t>::Copy(env, next.data(), ks));
    cur = next;
    prev = cur.data();
    if (i > 10'000'000) break;
  }
  return out;
}

Napi::Value BpfObject::Close(const Napi::CallbackInfo &info) {
  CloseAll();
  return info.Env().Undefined();
}

}  // namespace cs
