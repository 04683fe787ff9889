// Process enrichment for every capture path: /proc facts (cached, fed by exec/exit), and container/pod
// identity parsed from the cgroup path.
export { processInfo, forgetProcess, readProcess, rememberExec, type ProcessInfo } from "./process.ts";
export { containerFromCgroup, podFromCgroup, type ContainerIdentity } from "./container.ts";
export { watchProcesses, processWatcherStats } from "./exec-watch.ts";
export { cgroupPathById } from "./cgroup-ids.ts";
