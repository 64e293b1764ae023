// Fuzz target: a text corpus for the char_lm task (tasks/char_lm.cpp): any bytes, of any
// length; when accepted, training and held-out windows are drawn from it.
#include "fuzz_target.h"
#include "sdnc/core/rng.h"
#include "sdnc/tasks/task.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdnc::fuzz::ScratchFile file(data, size, ".txt");
  try {
    sdnc::tasks::TaskConfig c;
    c.name = "char_lm";
    c.corpus = file.path();
    auto task = sdnc::tasks::make_task(c);
    sdnc::Generator g(1);
    for (int64_t L : {1, 2, 7}) {
      for (bool held_out : {false, true}) {
        try {
          (void)task->sample(g, 2, 1, L, held_out);
        } catch (const sdnc::Error& e) {
          sdnc::fuzz::check_message(e);
        }
      }
    }
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
