# Shared set-up for the test command: installing what is missing and starting
# what is needed. Sourced by scripts/test.sh and by scripts/checks/*.sh.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $* (run as root or install sudo)"
    fi
}

APT_UPDATED=""
# need_apt COMMAND PACKAGE...: install PACKAGEs with apt-get unless COMMAND is on PATH.
need_apt() {
    local cmd=$1; shift
    command -v "$cmd" >/dev/null 2>&1 && return 0
    command -v apt-get >/dev/null || die "$cmd is missing and this is not a Debian/Ubuntu machine: install $* by hand"
    log "installing $* (for $cmd)"
    if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    command -v "$cmd" >/dev/null || die "installed $* but $cmd is still not on PATH"
}

# A virtualenv of our own keeps PyPI tools off the system Python (PEP 668).
VENV="${VENV:-$ROOT/target/ci-venv}"
need_venv() {
    [ -x "$VENV/bin/pip" ] && return 0
    need_apt python3 python3
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        need_apt_pkg python3-venv
        python3 -m venv "$VENV" || die "could not create a Python virtualenv at $VENV"
    fi
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
}
need_apt_pkg() {
    dpkg -s "$1" >/dev/null 2>&1 && return 0
    if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

# need_pip COMMAND REQUIREMENT...: install pinned PyPI packages into the venv
# unless COMMAND is already there.
need_pip() {
    local cmd=$1; shift
    need_venv
    [ -x "$VENV/bin/$cmd" ] && return 0
    log "installing $* from PyPI"
    "$VENV/bin/pip" install -q "$@" || die "pip could not install $*"
}

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
