// Fuzz target: the bAbI reader (tasks/babi.h, parse_babi_file) on any bytes as a story file.
// What it accepts must be what the format says: stories numbered from 1 up by one, questions
// with at least one answer word and supporting facts that are earlier statements.
#include "fuzz_target.h"
#include "sdnc/tasks/babi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdnc::fuzz::ScratchFile file(data, size, "_qa1_fuzz_train.txt");
  try {
    const std::vector<sdnc::tasks::BabiStory> stories = sdnc::tasks::parse_babi_file(file.path());
    if (stories.empty()) std::abort();
    for (const auto& story : stories) {
      for (size_t k = 0; k < story.lines.size(); ++k) {
        const auto& line = story.lines[k];
        if (line.id != static_cast<int64_t>(k) + 1 || line.words.empty()) std::abort();
        if (line.question && (line.answer.empty() || line.supporting.empty())) std::abort();
        for (int64_t s : line.supporting)
          if (s < 1 || s >= line.id || story.lines[static_cast<size_t>(s - 1)].question) std::abort();
      }
    }
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
