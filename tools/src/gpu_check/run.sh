#!/bin/sh
# ssmb-gpu-check: the SSMB engine on this machine's GPU through onnxruntime's WebGPU provider (Vulkan), and
# on its CPU. Needs nothing installed but the GPU driver: node, onnxruntime, the Vulkan loader and the C
# runtime they link are in this folder, and node starts through the bundled ld.so.
#   ./ssmb-gpu-check/run [--limit SECONDS] [--models iresnet18,iresnet100] [--batches 16,64,128]
#                        [--providers webgpu,cpu] [--reps N] [--adapter-only]
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
libs="$here/lib"
# the NVIDIA container toolkit mounts the driver's libraries here, named by its Vulkan manifest
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  if [ -d "$d" ]; then libs="$libs:$d"; fi
done
if [ -n "${LD_LIBRARY_PATH:-}" ]; then libs="$libs:$LD_LIBRARY_PATH"; fi
export ORT_DISABLE_TELEMETRY=1
# Mesa's and Dawn's Vulkan set-up look for a runtime folder; a bare node's batch shell may have none
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export GPU_CHECK_LOADER="$here/lib/ld-linux-x86-64.so.2" GPU_CHECK_LIBRARY_PATH="$libs" GPU_CHECK_PROBE="$here/vk_adapter"
"$GPU_CHECK_LOADER" --library-path "$libs" "$here/node" "$here/check.js" "$@" &
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
