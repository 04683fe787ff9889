// Errors thrown to JS carry the libbpf/errno text and a hint on what to do about it.
#pragma once
#include <napi.h>
#include <string>

namespace cs {
// Installs the libbpf print callback that remembers the last warnings of the calling thread.
void InstallLibbpfLogger();
// Clears the remembered libbpf messages (call before a libbpf operation).
void ClearLibbpfLog();
// Builds "what: strerror (errno N) — hint [libbpf: last messages]".
std::string BpfErrorMessage(const std::string &what, int err);
[[noreturn]] void ThrowBpfError(Napi::Env env, const std::string &what, int err);
}  // namespace cs
