#include "sdnc/machine/dials.h"

#include <fmt/ranges.h>

#include "sdnc/core/error.h"

namespace sdnc::machine {

namespace {

template <class E>
E parse_one(const std::string& s, const std::vector<std::string>& names, const char* key, const std::string& where) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) return static_cast<E>(i);
  fail("config", "{}: key '{}' must be one of {}; got '{}'", where, key, fmt::join(names, ", "), s);
}

}  // namespace

// The enum values are declared in the order of these lists.
const std::vector<std::string>& controller_names() {
  static const std::vector<std::string> v = {"stateless", "lstm", "feedforward"};
  return v;
}
const std::vector<std::string>& write_names() {
  static const std::vector<std::string> v = {"append", "allocate"};
  return v;
}
const std::vector<std::string>& similarity_names() {
  static const std::vector<std::string> v = {"dot", "cosine"};
  return v;
}
const std::vector<std::string>& read_modes_names() {
  static const std::vector<std::string> v = {"content", "links"};
  return v;
}
const std::vector<std::string>& key_value_names() {
  static const std::vector<std::string> v = {"separate", "shared"};
  return v;
}
const std::vector<std::string>& positions_names() {
  static const std::vector<std::string> v = {"none", "learned", "sinusoidal", "rope", "alibi"};
  return v;
}
const std::vector<std::string>& strength_names() {
  static const std::vector<std::string> v = {"softplus", "oneplus"};
  return v;
}

const std::vector<std::string>& eviction_names() {
  static const std::vector<std::string> v = {"learned", "window", "h2o", "tova"};
  return v;
}

Controller parse_controller(const std::string& s, const std::string& w) {
  return parse_one<Controller>(s, controller_names(), "controller", w);
}
Write parse_write(const std::string& s, const std::string& w) { return parse_one<Write>(s, write_names(), "write", w); }
Similarity parse_similarity(const std::string& s, const std::string& w) {
  return parse_one<Similarity>(s, similarity_names(), "similarity", w);
}
ReadModes parse_read_modes(const std::string& s, const std::string& w) {
  return parse_one<ReadModes>(s, read_modes_names(), "read_modes", w);
}
KeyValue parse_key_value(const std::string& s, const std::string& w) {
  return parse_one<KeyValue>(s, key_value_names(), "key_value", w);
}
Positions parse_positions(const std::string& s, const std::string& w) {
  return parse_one<Positions>(s, positions_names(), "positions", w);
}
Strength parse_strength(const std::string& s, const std::string& w) {
  return parse_one<Strength>(s, strength_names(), "strength", w);
}
Eviction parse_eviction(const std::string& s, const std::string& w) {
  return parse_one<Eviction>(s, eviction_names(), "eviction", w);
}

const char* name(Controller v) { return controller_names()[static_cast<size_t>(v)].c_str(); }
const char* name(Write v) { return write_names()[static_cast<size_t>(v)].c_str(); }
const char* name(Similarity v) { return similarity_names()[static_cast<size_t>(v)].c_str(); }
const char* name(ReadModes v) { return read_modes_names()[static_cast<size_t>(v)].c_str(); }
const char* name(KeyValue v) { return key_value_names()[static_cast<size_t>(v)].c_str(); }
const char* name(Positions v) { return positions_names()[static_cast<size_t>(v)].c_str(); }
const char* name(Strength v) { return strength_names()[static_cast<size_t>(v)].c_str(); }
const char* name(Eviction v) { return eviction_names()[static_cast<size_t>(v)].c_str(); }

}  // namespace sdnc::machine
