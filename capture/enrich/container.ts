// Container and pod identity from a cgroup v2 path. Runtimes name the leaf cgroup after the container id:
//   docker      /system.slice/docker-<id>.scope            (systemd driver)   /docker/<id>   (cgroupfs driver)
//   containerd  .../cri-containerd-<id>.scope (CRI, systemd)   .../nerdctl-<id>.scope (nerdctl)
//               /k8s.io/<id>, /default/<id> (cgroupfs: the containerd namespace is the parent)
//   cri-o       .../crio-<id>.scope (crio-conmon-<id>.scope is its monitor)
//   podman      .../libpod-<id>.scope[/container]   (libpod-conmon-<id>.scope is its monitor)
// Kubernetes puts containers under a pod cgroup: kubepods[-<qos>]-pod<uid>.slice (systemd, '-' → '_')
// or /kubepods/<qos>/pod<uid>/ (cgroupfs).

export interface ContainerIdentity {
  container_id: string | null;
  container_runtime: string | null;
  pod: string | null;
}

const ID = "([0-9a-f]{64})";
const SCOPE_PATTERNS: [RegExp, string][] = [
  [new RegExp(`(?:^|/)docker-${ID}\\.scope(?:/|$)`), "docker"],
  [new RegExp(`(?:^|/)cri-containerd-${ID}\\.scope(?:/|$)`), "containerd"],
  [new RegExp(`(?:^|/)nerdctl-${ID}\\.scope(?:/|$)`), "containerd"],
  [new RegExp(`(?:^|/)crio-${ID}\\.scope(?:/|$)`), "cri-o"],
  [new RegExp(`(?:^|/)libpod-${ID}\\.scope(?:/|$)`), "podman"],
];

export function containerFromCgroup(path: string): ContainerIdentity {
  const pod = podFromCgroup(path);
  for (const [re, runtime] of SCOPE_PATTERNS) {
    const m = path.match(re);
    if (m) return { container_id: m[1], container_runtime: runtime, pod };
  }
  // cgroupfs drivers: the id is a bare path component
  let m = path.match(new RegExp(`(?:^|/)docker/${ID}(?:/|$)`));
  if (m) return { container_id: m[1], container_runtime: "docker", pod };
  m = path.match(new RegExp(`(?:^|/)(?:libpod_parent|machine\\.slice)/libpod-${ID}`));
  if (m) return { container_id: m[1], container_runtime: "podman", pod };
  m = path.match(new RegExp(`^/kubepods(?:/[a-z]+)?/pod[0-9a-f-]{36}/${ID}(?:/|$)`));
  if (m) return { container_id: m[1], container_runtime: null, pod }; // runtime not visible in cgroupfs layout
  m = path.match(new RegExp(`^/(k8s\\.io|default|moby)/${ID}(?:/|$)`));
  if (m) return { container_id: m[2], container_runtime: m[1] === "moby" ? "docker" : "containerd", pod };
  return { container_id: null, container_runtime: null, pod };
}

export function podFromCgroup(path: string): string | null {
  let m = path.match(/kubepods(?:-[a-z]+)?-pod([0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12})\.slice/);
  if (m) return m[1].replace(/_/g, "-");
  m = path.match(/\/kubepods(?:\/[a-z]+)?\/pod([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/|$)/);
  return m ? m[1] : null;
}
