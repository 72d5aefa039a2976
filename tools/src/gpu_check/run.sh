#!/bin/sh
# ssmb-gpu-check: the SSMB engine on this machine's GPU through onnxruntime's WebGPU provider (Vulkan), and
# on its CPU. Needs nothing installed but the GPU driver: node, onnxruntime, the Vulkan loader and the C
# runtime they link are in this folder (node starts through the bundled ld.so where this machine's glibc
# is older than the bundled one, or it has no libstdc++).
#   ./ssmb-gpu-check/run [--limit SECONDS] [--models iresnet18,iresnet100] [--batches 16,64,128]
#                        [--providers cpu,webgpu] [--work train,infer] [--reps N] [--adapter-only]
# It keeps inside --limit (default 480 s) by skipping rows that no longer fit, and is stopped at the
# limit if a row overruns. VK_DRIVER_FILES=/path/to/icd.json picks the Vulkan driver manifest.
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
limit=480
prev=
for a in "$@"; do
  if [ "$prev" = --limit ]; then limit=$a; fi
  prev=$a
done
case $limit in
  '' | *[!0-9]*) echo "ssmb-gpu-check: --limit is '$limit'; expected whole seconds" >&2; exit 2 ;;
esac
# The Vulkan loader always comes from here. The C runtime (glibc, libstdc++) comes from here unless this
# machine has its own, as new: a newer machine's own drivers (Mesa) may need its newer glibc.
# SSMB_GPU_CHECK_RUNTIME=bundled|host forces one.
vk="$here/lib/vulkan"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  # the NVIDIA container toolkit mounts the driver's libraries here, named by its Vulkan manifest
  if [ -d "$d" ]; then vk="$vk:$d"; fi
done
if [ -n "${LD_LIBRARY_PATH:-}" ]; then vk="$vk:$LD_LIBRARY_PATH"; fi
bundled=$(cat "$here/lib/GLIBC_VERSION")
host=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc //p')
runtime=${SSMB_GPU_CHECK_RUNTIME:-}
if [ -z "$runtime" ]; then
  runtime=bundled
  if [ -n "$host" ]; then
    hmaj=${host%%.*}; hmin=${host#*.}; hmin=${hmin%%.*}
    bmaj=${bundled%%.*}; bmin=${bundled#*.}; bmin=${bmin%%.*}
    newer=no
    if [ "$hmaj" -gt "$bmaj" ] || { [ "$hmaj" -eq "$bmaj" ] && [ "$hmin" -ge "$bmin" ]; }; then newer=yes; fi
    for f in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
      if [ "$newer" = yes ] && [ -e "$f" ]; then runtime=host; fi
    done
  fi
fi
export ORT_DISABLE_TELEMETRY=1
# Mesa's and Dawn's Vulkan set-up look for a runtime folder; a bare node's batch shell may have none
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export GPU_CHECK_PROBE="$here/vk_adapter"
case $runtime in
  host)
    export GPU_CHECK_RUNTIME="this machine's glibc ${host:-unknown} (bundled: $bundled, not needed)"
    export LD_LIBRARY_PATH="$vk"
    set -- "$here/node" "$here/check.js" "$@"
    ;;
  bundled)
    export GPU_CHECK_RUNTIME="the bundled glibc $bundled (this machine's: ${host:-none found})"
    export GPU_CHECK_LOADER="$here/lib/ld-linux-x86-64.so.2" GPU_CHECK_LIBRARY_PATH="$vk:$here/lib" GPU_CHECK_NODE="$here/node"
    set -- "$GPU_CHECK_LOADER" --library-path "$GPU_CHECK_LIBRARY_PATH" "$here/node" "$here/check.js" "$@"
    ;;
  *) echo "ssmb-gpu-check: SSMB_GPU_CHECK_RUNTIME is '$runtime'; expected bundled or host" >&2; exit 2 ;;
esac
"$@" &
pid=$!
(
  trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$limit" >/dev/null 2>&1 &
  s=$!
  wait "$s"
  if kill -9 "$pid" 2>/dev/null; then
    echo "ssmb-gpu-check: stopped at the $limit s limit; the lines above are what was measured"
    exit 3
  fi
) &
watchdog=$!
wait "$pid"
rc=$?
kill "$watchdog" 2>/dev/null
wait "$watchdog"
# stopped by the watchdog: timeout(1)'s exit status
if [ $? -eq 3 ]; then exit 124; fi
exit "$rc"
