#include "errors.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace cs {
namespace {
thread_local std::string last_log;

int LibbpfPrint(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string s(n + 1, '\0');
  vsnprintf(s.data(), s.size(), fmt, args);
  s.resize(n);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (last_log.size() > 16384) last_log.erase(0, last_log.size() - 8192);
  if (!last_log.empty()) last_log += "; ";
  last_log += s;
  if (getenv("CRYPTOSCOPE_LIBBPF_DEBUG")) fprintf(stderr, "libbpf: %s\n", s.c_str());
  return 0;
}

const char *Hint(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      return "needs root or CAP_BPF + CAP_PERFMON (and CAP_NET_ADMIN for TC/cgroup hooks)";
    case ENOENT:
      return "the binary, symbol, tracepoint, interface or cgroup does not exist";
    case ESRCH:
      return "no such symbol or probe in that binary (is it stripped, or a different version?)";
    case EOPNOTSUPP:
    case EINVAL:
      return "this kernel may lack the program or attach type (see `cryptoscope doctor`)";
    case E2BIG:
    case ENOSPC:
      return "a map or program exceeds a kernel limit";
    case EEXIST:
      return "something is already attached there";
    case EBADF:
      return "the object was closed";
    default:
      return nullptr;
  }
}
}  // namespace

void InstallLibbpfLogger() { libbpf_set_print(LibbpfPrint); }
void ClearLibbpfLog() { last_log.clear(); }

std::string BpfErrorMessage(const std::string &what, int err) {
  if (err < 0) err = -err;
  std::string msg = what + ": " + strerror(err) + " (errno " + std::to_string(err) + ")";
  bool verifier = last_log.find("PROG LOAD LOG") != std::string::npos;
  if (verifier && (err == EACCES || err == EINVAL || err == E2BIG))
    msg += " - the kernel verifier rejected a program (end of its log below)";
  else if (const char *h = Hint(err))
    msg += " - " + std::string(h);
  if (!last_log.empty()) {
    std::string log = last_log.size() > 600 ? "..." + last_log.substr(last_log.size() - 600) : last_log;
    msg += " [libbpf: " + log + "]";
  }
  return msg;
}

void ThrowBpfError(Napi::Env env, const std::string &what, int err) {
  Napi::Error e = Napi::Error::New(env, BpfErrorMessage(what, err));
  e.Set("errno", Napi::Number::New(env, err < 0 ? -err : err));
  throw e;
}
}  // namespace cs
