// dials.h — the five binary dials between a DNC and a Transformer (MISSION.md "The dials"),
// plus the position encoding, as typed values. Each dial names one part of the memory
// machine; the two corners are
//   DNC         = (lstm,      allocate, cosine, links,   shared)
//   Transformer = (stateless, append,   dot,    content, separate)
// and every other combination is a hybrid (docs/machine.md).
#pragma once
#include <string>
#include <vector>

namespace sdnc::machine {

// Controller: the network that reads x_t (and, if recurrent, last step's reads) and emits
// the interface. FeedForward is the DNC's feed-forward controller (still fed the reads).
enum class Controller { Stateless, Lstm, FeedForward };
// Write head: append-once (one slot per step; bounded by memory_slots, then usage-based
// eviction) | DNC allocation + content write with erase and gates, N slots.
enum class Write { Append, Allocate };
// Addressing rule: q·k/√W | cosine (DeepMind's epsilons) times a learned strength.
enum class Similarity { Dot, Cosine };
// Read modes: content only | content + temporal links (forward/backward).
enum class ReadModes { Content, Links };
// Key/value: a key and a value per slot | one word used as both.
enum class KeyValue { Separate, Shared };
// Positions of a stateless controller's inputs (recurrent controllers count time themselves).
enum class Positions { None, Learned, Sinusoidal, Rope, Alibi };
// Strength of cosine addressing: softplus (DeepMind's code) | oneplus = 1 + softplus (paper).
enum class Strength { Softplus, Oneplus };
// Which slot a full bounded append memory (write=append, memory_slots N) overwrites:
//   learned  usage-based allocation (the DNC's free gates decide; differentiable)
//   window   StreamingLLM: the first sink_slots slots stay, the oldest other slot goes
//   h2o      heavy hitters: the slot with the least read weight accumulated over all steps
//   tova     the slot with the least read weight at the last step (mean over read heads)
enum class Eviction { Learned, Window, H2o, Tova };

// name ↔ value; parse_* throws "[config] <where>: key '<key>' must be one of a, b; got 'x'".
Controller parse_controller(const std::string& s, const std::string& where);
Write parse_write(const std::string& s, const std::string& where);
Similarity parse_similarity(const std::string& s, const std::string& where);
ReadModes parse_read_modes(const std::string& s, const std::string& where);
KeyValue parse_key_value(const std::string& s, const std::string& where);
Positions parse_positions(const std::string& s, const std::string& where);
Strength parse_strength(const std::string& s, const std::string& where);
Eviction parse_eviction(const std::string& s, const std::string& where);

const char* name(Controller v);
const char* name(Write v);
const char* name(Similarity v);
const char* name(ReadModes v);
const char* name(KeyValue v);
const char* name(Positions v);
const char* name(Strength v);
const char* name(Eviction v);

// The allowed names of each dial, in the order docs and --help list them.
const std::vector<std::string>& controller_names();
const std::vector<std::string>& write_names();
const std::vector<std::string>& similarity_names();
const std::vector<std::string>& read_modes_names();
const std::vector<std::string>& key_value_names();
const std::vector<std::string>& positions_names();
const std::vector<std::string>& strength_names();
const std::vector<std::string>& eviction_names();

}  // namespace sdnc::machine
