#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (root): apt packages, npm dependencies, libbpf 1.5 built
# statically from Debian's source package, bpftool 7.5, vmlinux.h, the BPF objects, the native addon,
# the local signing key, the site's offline npm cache. A second run only checks stamps and takes seconds.
# Nothing is fetched from outside Debian's archive and the npm registry; /etc/apt is never edited.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$ROOT/build
mkdir -p "$BUILD"
log() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (apt packages, BPF): try sudo npm test"

# stamp NAME INPUTS...: true when the stamp is newer than all inputs (so the step can be skipped)
stamp_ok() { local s=$BUILD/.stamp-$1; shift; [ -f "$s" ] || return 1; for f in "$@"; do [ "$f" -nt "$s" ] && return 1; done; return 0; }
stamp() { touch "$BUILD/.stamp-$1"; }

# ---- apt packages -------------------------------------------------------------------------------
APT_PACKAGES=(
  clang llvm libelf-dev zlib1g-dev pkg-config dpkg-dev make g++ python3
  iproute2 iputils-ping ethtool procps psmisc util-linux ca-certificates xz-utils
  openssl gnutls-bin curl openssh-server openssh-client tcpdump tshark iperf3
  golang-go systemtap-sdt-dev libnss3-tools libssl-dev
  chromium jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null || die "apt-get update failed (is Debian's archive reachable?)"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install failed: ${missing[*]}"
fi

# ---- a private apt configuration for Debian source packages newer than bookworm -------------------
# trixie's libbpf 1.5 source and bookworm-backports' bpftool 7.5; /etc/apt stays untouched.
APT_DIR=$BUILD/apt
apt_private() { APT_CONFIG=$APT_DIR/apt.conf apt-get -q "$@"; }
if [ ! -f "$APT_DIR/.updated" ]; then
  log "private apt index (trixie sources, bookworm-backports)"
  mkdir -p "$APT_DIR"/{lists/partial,cache/archives/partial,etc/preferences.d,etc/apt.conf.d}
  cat > "$APT_DIR/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
SRC
  cat > "$APT_DIR/apt.conf" <<CONF
Dir::State "$APT_DIR";
Dir::State::Lists "$APT_DIR/lists";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "$APT_DIR/cache";
Dir::Etc::SourceList "$APT_DIR/sources.list";
Dir::Etc::SourceParts "$APT_DIR/etc/sources.list.d";
Dir::Etc::Parts "$APT_DIR/etc/apt.conf.d";
Dir::Etc::Preferences "$APT_DIR/etc/preferences";
Dir::Etc::PreferencesParts "$APT_DIR/etc/preferences.d";
Acquire::Languages "none";
APT::Sandbox::User "root";
CONF
  mkdir -p "$APT_DIR/etc/sources.list.d"
  apt_private update >/dev/null || die "private apt-get update failed"
  touch "$APT_DIR/.updated"
fi

# ---- libbpf 1.5, static, -fPIC (linked into the .node addon) ------------------------------------
LIBBPF_VERSION=1.5.0-3
LIBBPF=$BUILD/libbpf
if [ ! -f "$LIBBPF/lib/libbpf.a" ]; then
  log "libbpf $LIBBPF_VERSION from Debian's source package"
  rm -rf "$BUILD/libbpf-src" && mkdir -p "$BUILD/libbpf-src"
  (cd "$BUILD/libbpf-src" && apt_private source --download-only "libbpf=$LIBBPF_VERSION" >/dev/null \
     && dpkg-source -x --no-check libbpf_*.dsc src >/dev/null) || die "could not fetch libbpf $LIBBPF_VERSION source"
  mkdir -p "$BUILD/libbpf-obj"
  make -s -C "$BUILD/libbpf-src/src/src" -j"$(nproc)" BUILD_STATIC_ONLY=1 \
    CFLAGS="-g -O2 -Wall -std=gnu89 -fPIC" OBJDIR="$BUILD/libbpf-obj" DESTDIR="$LIBBPF" \
    PREFIX= LIBDIR=/lib INCLUDEDIR=/include UAPIDIR=/include install install_uapi_headers >/dev/null \
    || die "libbpf build failed"
fi

# ---- bpftool 7.5 (bookworm-backports), unpacked, not installed: for vmlinux.h ---------------------
BPFTOOL=$BUILD/bpftool/usr/sbin/bpftool
if [ ! -x "$BPFTOOL" ]; then
  log "bpftool 7.5 from bookworm-backports"
  (cd "$BUILD" && rm -f bpftool_*.deb && apt_private download "bpftool/bookworm-backports" >/dev/null \
     && dpkg-deb -x bpftool_*.deb "$BUILD/bpftool") || die "could not fetch bpftool from bookworm-backports"
fi

# ---- Go 1.23 (bookworm-backports), unpacked: the demo's post-quantum hybrid TLS peers -------------
GO123=$BUILD/go1.23/usr/lib/go-1.23/bin/go
if [ ! -x "$GO123" ]; then
  log "Go 1.23 from bookworm-backports (hybrid post-quantum key exchange for the demo)"
  mkdir -p "$BUILD/debs" && rm -f "$BUILD"/debs/golang-1.23-*.deb
  (cd "$BUILD/debs" && apt_private download golang-1.23-go/bookworm-backports golang-1.23-src/bookworm-backports >/dev/null \
     && for d in golang-1.23-*.deb; do dpkg-deb -x "$d" "$BUILD/go1.23"; done) || die "could not fetch Go 1.23 from bookworm-backports"
fi

# ---- npm dependencies ----------------------------------------------------------------------------
if ! stamp_ok npm package-lock.json package.json || [ ! -d node_modules ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci failed"
  stamp npm
fi

# ---- BPF objects ---------------------------------------------------------------------------------
[ -r /sys/kernel/btf/vmlinux ] || die "kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE BPF needs CONFIG_DEBUG_INFO_BTF=y"
make -s -C bpf BPFTOOL="$BPFTOOL" LIBBPF="$LIBBPF" || die "BPF build failed"

# ---- native addon --------------------------------------------------------------------------------
if ! stamp_ok addon native/*.cc native/*.h native/binding.gyp "$LIBBPF/lib/libbpf.a" || [ ! -f native/build/Release/cryptoscope_bpf.node ]; then
  log "native addon (node-gyp)"
  (cd native && LIBBPF_DIR="$LIBBPF" npx --no-install node-gyp rebuild --nodedir=/usr --loglevel=error >/dev/null) || die "addon build failed"
  stamp addon
fi

# ---- the demo's Go programs (standard library only, no module downloads) -----------------------
if ! stamp_ok demo-go capture/demo/go/*.go || [ ! -x "$BUILD/demo-go/server" ]; then
  log "demo Go programs (go build, Go 1.23)"
  mkdir -p "$BUILD/demo-go"
  for prog in server client; do
    GOCACHE=$BUILD/go-cache GOPATH=$BUILD/go-path GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off \
      "$GO123" build -o "$BUILD/demo-go/$prog" "capture/demo/go/$prog.go" || die "go build $prog failed"
  done
  stamp demo-go
fi

# ---- local signing key and signatures of the BPF objects (attestation) ---------------------------
if [ -f capture/attest/setup-keys.ts ]; then
  node --import tsx capture/attest/setup-keys.ts || die "signing the BPF objects failed"
fi

# ---- the site's offline npm cache --------------------------------------------------------------
if [ -f site/prepare.ts ]; then
  node --import tsx site/prepare.ts || die "preparing the site's offline cache failed"
fi
# ---- the CLI compiled ahead of time (bin/cryptoscope runs it while it is newer than the sources) ----
node --import tsx scripts/compile-cli.ts || die "compiling the CLI failed"

# ---- the notebooks' TypeScript kernel (tslab), registered in notebooks/.jupyter only -------------
if [ -f notebooks/setup.ts ]; then
  node --import tsx notebooks/setup.ts || die "registering the notebook kernel failed"
fi
log "ready"
