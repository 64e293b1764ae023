// atomic_file.h — write a file so that readers see either the old content or the complete
// new content: write "<path>.tmp.<pid>", flush, then rename over <path>.
#pragma once
#include <functional>
#include <ostream>
#include <string>

namespace sdnc {

// Calls write(stream) on a temporary file and renames it to path on success; on any
// exception the temporary file is removed and the exception propagates.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace sdnc
