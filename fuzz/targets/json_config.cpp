// Fuzz target: the JSON config reader shared by the model configs (io/config.h):
// read_json_file, then every ConfigReader accessor on a few keys.
#include "fuzz_target.h"
#include "sdnc/io/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdnc::fuzz::ScratchFile file(data, size, ".json");
  try {
    nlohmann::json j = sdnc::io::read_json_file(file.path());
    sdnc::io::ConfigReader r(j, file.path());
    for (const char* key : {"n_embd", "n_head", "n_layer", "vocab_size", "a", "b"}) {
      try { (void)r.positive_int(key, 1); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
      try { (void)r.optional_positive_int(key, 1); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
      try { (void)r.non_negative_int(key, 0); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
      try { (void)r.positive_number(key, 1.0); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
      try { (void)r.number(key, 0.0); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
      try { (void)r.clip_value(key, 0.0); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
      try { (void)r.boolean(key, false); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
      try { (void)r.string(key, ""); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
      try { (void)r.required_positive_int(key); } catch (const sdnc::Error& e) { sdnc::fuzz::check_message(e); }
    }
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
