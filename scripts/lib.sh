# Shared by scripts/start and scripts/test: find Python 3.12+, keep .venv in step with the
# requirement files. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mError: %s\033[0m\n' "$*" >&2; exit 1; }

# Prints the path of a Python >= 3.12, trying pyenv's choice from .python-version first, then
# python3.13, python3.12 and python3 on PATH. pyenv shims for a version that is not selected exist
# on PATH but fail when run, so every candidate is actually executed.
find_python() {
  local candidates=() c
  if command -v pyenv >/dev/null 2>&1; then
    c="$(pyenv which python3 2>/dev/null || true)"
    [ -n "$c" ] && candidates+=("$c")
  fi
  for c in python3.13 python3.12 python3; do
    command -v "$c" >/dev/null 2>&1 && candidates+=("$(command -v "$c")")
  done
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

# Creates or refreshes .venv with the given requirement file. A stamp of the requirement files'
# contents skips pip when nothing changed, so a second start takes seconds.
ensure_venv() {
  local reqfile="$1" py stamp want
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    py="$(find_python)" || die "Collab needs Python 3.12 or newer and none was found.
  Install one, for example:  apt-get install python3.12 python3.12-venv   or   pyenv install 3.12
  (with pyenv, the repository's .python-version selects it), then run this command again."
    say "Creating .venv with $("$py" --version) ($py)"
    rm -rf "$VENV"
    "$py" -m venv "$VENV" || die "Could not create a virtual environment with $py (on Debian: apt-get install python3.12-venv)."
  fi
  stamp="$VENV/.installed-$(basename "$reqfile")"
  want="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing Python packages from $reqfile"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqfile"
    echo "$want" > "$stamp"
  fi
}

# Prints the python of an environment holding requirements.txt ONLY (no test packages), built once
# per requirements.txt and Python version and kept in the user's cache, so CI re-runs reuse it.
# The tests start a worker and scripts/start from it: a package the runtime needs but only the
# test requirements bring in would otherwise stay hidden.
ensure_runtime_venv() {
  local py key cache dir
  py="$(find_python)" || die "Collab needs Python 3.12 or newer and none was found."
  key="$({ cat requirements.txt; "$py" --version; } | sha256sum | cut -c1-16)"
  cache="${COLLAB_RUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/collab}"
  dir="$cache/runtime-$key"
  if [ ! -f "$dir/.complete" ]; then
    say "Building the runtime-only environment from requirements.txt ($dir)"
    rm -rf "$dir"
    mkdir -p "$cache"
    "$py" -m venv "$dir" >&2
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt >&2
    # Other requirement versions' environments are stale now.
    find "$cache" -maxdepth 1 -name 'runtime-*' ! -name "runtime-$key" -exec rm -rf {} + 2>/dev/null || true
    touch "$dir/.complete"
  fi
  # The stamp ensure_venv looks for, so scripts/start run on this environment installs nothing.
  cat requirements*.txt | sha256sum | cut -d' ' -f1 > "$dir/.installed-requirements.txt"
  echo "$dir/bin/python"
}

# Installs Debian packages the application needs at run time (fonts for Chinese PDFs) when this
# is root on Debian; otherwise says what to install. $1: "required" fails without them.
ensure_debian_packages() {
  local missing=() pkg
  for pkg in "${@:2}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif [ "$1" = required ]; then
    die "Please install: apt-get install ${missing[*]}"
  else
    say "Missing ${missing[*]} (apt-get install ${missing[*]}): PDFs will show boxes instead of Chinese"
  fi
}

# True when something listens on host:port (bash's /dev/tcp, so no extra tools are needed).
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
