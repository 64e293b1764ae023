// atomic_file.h — write a file so that readers see either the old content or the complete
// new content, also across a crash or power loss: write "<path>.tmp.<pid>", fsync it, rename
// it over <path>, fsync the directory.
//
// Fault injection (for the crash-safety tests): SDNC_FAULT_DISK_BYTES=N lets this process
// write N bytes in all through write_file_atomically; the write that would pass N fails as a
// full disk does (ENOSPC), so the tests can fill the "disk" in the middle of a checkpoint.
#pragma once
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace sdnc {

// Calls write(stream) on a temporary file beside path, then fsyncs it, renames it to path and
// fsyncs the directory. On any failure (an exception from write, a short write: ENOSPC, EIO,
// ...) the temporary file is removed, path is left as it was, and
// "[write] <path>: <reason>" is thrown.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Removes "<path>.tmp.<pid>" files whose process is gone (a writer killed mid-write).
void remove_stale_temporaries(const std::string& path);

// The same fault from code (tests): after `bytes` more bytes every write fails with ENOSPC;
// -1 turns the fault off.
void inject_disk_full_after(int64_t bytes);

}  // namespace sdnc
