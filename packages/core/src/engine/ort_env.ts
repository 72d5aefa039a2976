// Nothing leaves the machine unasked. onnxruntime-node (1.29 and later, on Linux) ships Microsoft's 1DS
// telemetry, on by default: a process that opens a session queues events (session creation, a device id,
// the OS, the executable's path) under ~/.cache/Microsoft/DeveloperTools/.onnxruntime for upload, and
// leaves $TMPDIR/mat-debug-<pid>.log. ORT_DISABLE_TELEMETRY=1, set before the library initialises, turns
// all of it off. Imported before onnxruntime-node everywhere it is loaded; a user who wants telemetry
// sets ORT_DISABLE_TELEMETRY=0 themselves (this only fills in an unset variable).
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export const ORT_TELEMETRY_ENV = 'ORT_DISABLE_TELEMETRY';
