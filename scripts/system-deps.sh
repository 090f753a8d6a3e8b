#!/usr/bin/env bash
# Installs the Debian packages the build needs (gcc for bundled C code: SQLite, libwebp, lcms2, libjpeg-turbo; nasm for rav1e's and libjpeg-turbo's SIMD assembly), only when missing.
set -euo pipefail
need=()
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v nasm >/dev/null 2>&1 || need+=(nasm)
# curl: scripts/vendor-rav1d.sh fetches rav1d's .crate to check vendor/rav1d against it.
command -v curl >/dev/null 2>&1 || need+=(curl ca-certificates)
# varnish: tests/api/cdn_varnish.rs runs deploy/varnish/imgcloud.vcl in a real varnishd in front of the server.
command -v varnishd >/dev/null 2>&1 || [ -x /usr/sbin/varnishd ] || need+=(varnish)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
