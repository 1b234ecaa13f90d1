#!/usr/bin/env bash
# scripts/setup.sh — installs what one use of ww needs on a fresh Debian machine, idempotently:
# `. scripts/setup.sh demo` (the default) the demo's apt packages, Deno 2.9.6 (from the npm
# registry, into .tools/deno) and the project's npm dependencies; `test` adds the test suite's apt
# packages and a js-ipfs test daemon (into .tools/ipfsd, from the recipe in ../shared/recipes/ipfsd);
# `bench` adds the benchmarks' (scripts/packages.sh lists them). Source it to get `deno` on PATH.
# It returns non-zero when an install step fails, and leaves the caller's shell options as they
# were (the installs run in a subshell with `set -euo pipefail`).
ww_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# A machine that names its CA bundle for programs (SSL_CERT_FILE: a proxy that signs TLS with its
# own CA, say) gets it trusted by Deno too, which reads only DENO_CERT for that. One that names
# none, or an environment emptied of it (`env -i`), still has the system's store, where such a CA
# is installed: Deno and npm trust it as well as their own roots, as curl and git do (a run under
# `env -i` behind such a proxy failed to fetch from the npm registry: "invalid peer certificate").
if [ -n "${SSL_CERT_FILE:-}" ] && [ -z "${DENO_CERT:-}" ]; then export DENO_CERT="$SSL_CERT_FILE"; fi
if [ -z "${DENO_CERT:-}" ] && [ -z "${DENO_TLS_CA_STORE:-}" ]; then
  export DENO_TLS_CA_STORE=mozilla,system
fi
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

ww_install() (
  set -euo pipefail
  root=$1
  use=$2
  tools="$root/.tools"
  # shellcheck source=packages.sh
  . "$root/scripts/packages.sh"
  packages=$(ww_apt_packages "$use")
  mkdir -p "$tools"

  need_apt=()
  for pkg in $packages; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
  done
  if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd=sudo
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >&2
  fi

  if [ ! -x "$tools/deno/node_modules/.bin/deno" ]; then
    echo "setup: installing deno 2.9.6 from the npm registry" >&2
    npm install --prefix "$tools/deno" --no-audit --no-fund --loglevel=error deno@2.9.6 >&2
  fi

  recipe="${WW_IPFSD_RECIPE:-$root/../shared/recipes/ipfsd}"
  if [ "$use" != demo ] && [ ! -f "$tools/ipfsd/node_modules/ipfs/src/cli.js" ]; then
    if [ ! -d "$recipe" ]; then
      echo "setup: no js-ipfs recipe at $recipe (set WW_IPFSD_RECIPE); IPFS tests will fail" >&2
    else
      echo "setup: installing the js-ipfs test daemon (takes a few minutes)" >&2
      mkdir -p "$tools/ipfsd"
      cp "$recipe"/package.json "$recipe"/package-lock.json "$recipe"/ipfs-config.json \
        "$recipe"/start.sh "$tools/ipfsd/"
      chmod u+w "$tools/ipfsd"/*
      # npm's errors are printed (--silent hid them: "its reason is above" showed nothing), and a
      # failed install is tried once more: one transient failure of the registry or of npm's cache
      # cost a whole CI run.
      (cd "$tools/ipfsd" && npm install --omit=optional --no-audit --no-fund --loglevel=error >&2) ||
        { echo "setup: npm install of the js-ipfs test daemon failed; trying once more" >&2 &&
          (cd "$tools/ipfsd" && npm install --omit=optional --no-audit --no-fund --loglevel=error >&2); }
    fi
  fi

  (cd "$root" && "$tools/deno/node_modules/.bin/deno" install --quiet >&2)
)

ww_install "$ww_root" "${1:-demo}"
ww_setup_status=$?
export PATH="$ww_root/.tools/deno/node_modules/.bin:$PATH"
export WW_IPFSD_DIR="$ww_root/.tools/ipfsd"
unset -f ww_install
unset ww_root
# shellcheck disable=SC2317 # `return` when sourced, `exit` when run
return "$ww_setup_status" 2>/dev/null || exit "$ww_setup_status"
