#include "sdnc/tasks/babi.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>

#include "sdnc/core/error.h"
#include "sdnc/tasks/token_batch.h"

namespace sdnc::tasks {

namespace {

constexpr int64_t kPad = 0, kCue = 1, kStop = 2, kAsk = 3;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (true) {
    size_t next = s.find(sep, at);
    parts.push_back(s.substr(at, next == std::string::npos ? std::string::npos : next - at));
    if (next == std::string::npos) return parts;
    at = next + 1;
  }
}

// A positive decimal integer that fits comfortably in int64, or −1.
int64_t parse_id(const std::string& s) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
    return -1;
  int64_t v = std::stoll(s);
  return v >= 1 ? v : -1;
}

}  // namespace

std::vector<BabiStory> parse_babi_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("babi", "{}: cannot open", path);
  std::vector<BabiStory> stories;
  std::string text;
  for (int64_t number = 1; std::getline(in, text); ++number) {
    auto bad = [&](const std::string& why) { fail("babi", "{}:{}: {}", path, number, why); };
    size_t space = text.find(' ');
    if (space == std::string::npos) bad("expected 'ID text', got '" + text + "'");
    BabiLine line;
    line.id = parse_id(text.substr(0, space));
    if (line.id < 0) bad("the line must start with a positive line number, got '" + text.substr(0, space) + "'");
    if (line.id == 1) stories.emplace_back();
    else if (stories.empty() || stories.back().lines.back().id + 1 != line.id)
      bad(fmt::format("line number {} does not follow {} (a story starts at 1 and counts up by one)", line.id,
                      stories.empty() ? 0 : stories.back().lines.back().id));
    std::vector<std::string> fields = split(text.substr(space + 1), '\t');
    if (fields.size() != 1 && fields.size() != 3)
      bad(fmt::format("expected a statement or 'question<TAB>answer<TAB>supporting ids', got {} tab-separated fields",
                      fields.size()));
    line.question = fields.size() == 3;
    std::string sentence = fields[0];
    while (!sentence.empty() && sentence.back() == ' ') sentence.pop_back();
    char end = line.question ? '?' : '.';
    if (sentence.size() < 2 || sentence.back() != end)
      bad(fmt::format("a {} must end with '{}'", line.question ? "question" : "statement", end));
    sentence.pop_back();
    for (std::string& w : split(sentence, ' ')) {
      if (w.empty()) bad("empty word (two spaces in a row)");
      for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      line.words.push_back(w);
    }
    if (line.question) {
      for (std::string& w : split(fields[1], ',')) {
        if (w.empty()) bad("empty answer word in '" + fields[1] + "'");
        for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        line.answer.push_back(w);
      }
      for (const std::string& s : split(fields[2], ' ')) {
        int64_t id = parse_id(s);
        if (id < 0) bad("supporting fact '" + s + "' is not a positive line number");
        const auto& earlier = stories.back().lines;
        auto it = std::find_if(earlier.begin(), earlier.end(), [&](const BabiLine& l) { return l.id == id; });
        if (it == earlier.end() || it->question)
          bad(fmt::format("supporting fact {} is not an earlier statement of this story", id));
        line.supporting.push_back(id);
      }
    }
    stories.back().lines.push_back(std::move(line));
  }
  if (stories.empty()) fail("babi", "{}: no stories (empty file)", path);
  return stories;
}

std::array<std::string, 2> babi_files(const std::string& dir, int task) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    fail("babi", "{}: no such folder (key 'babi_dir': the bAbI v1.2 English 1k files qa1_*_train.txt ...)", dir);
  std::array<std::string, 2> found;
  const std::string prefix = "qa" + std::to_string(task) + "_";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    for (int s = 0; s < 2; ++s) {
      if (!name.ends_with(s == 0 ? "_train.txt" : "_test.txt")) continue;
      if (!found[s].empty()) fail("babi", "{}: two {} files for qa{}: {} and {}", dir, s == 0 ? "train" : "test", task,
                                  found[s], entry.path().string());
      found[s] = entry.path().string();
    }
  }
  for (int s = 0; s < 2; ++s)
    if (found[s].empty()) fail("babi", "{}: no {}*{} file", dir, prefix, s == 0 ? "_train.txt" : "_test.txt");
  return found;
}

BabiTask::BabiTask(const std::string& dir) {
  std::array<std::array<std::string, 2>, 20> files;
  std::array<std::array<std::vector<BabiStory>, 2>, 20> parsed;
  std::set<std::string> vocabulary;
  for (int t = 1; t <= 20; ++t) {
    files[t - 1] = babi_files(dir, t);
    for (int s = 0; s < 2; ++s) {
      parsed[t - 1][s] = parse_babi_file(files[t - 1][s]);
      for (const auto& story : parsed[t - 1][s])
        for (const auto& line : story.lines) {
          vocabulary.insert(line.words.begin(), line.words.end());
          vocabulary.insert(line.answer.begin(), line.answer.end());
        }
    }
  }
  words_ = {"<pad>", "-", ".", "?"};
  words_.insert(words_.end(), vocabulary.begin(), vocabulary.end());
  for (size_t i = 0; i < words_.size(); ++i) ids_[words_[i]] = static_cast<int64_t>(i);
  for (int s = 0; s < 2; ++s) {
    Split& split = splits_[s];
    for (int t = 1; t <= 20; ++t)
      for (const auto& story : parsed[t - 1][s]) {
        int64_t story_index = static_cast<int64_t>(split.story_tokens.size());
        std::vector<int64_t>& tokens = split.story_tokens.emplace_back();
        for (const auto& line : story.lines) {
          if (!line.question) {
            for (const auto& w : line.words) tokens.push_back(ids_.at(w));
            tokens.push_back(kStop);
            continue;
          }
          Question q{t, story_index, static_cast<int64_t>(tokens.size()), {}, {}};
          for (const auto& w : line.words) q.tail.push_back(ids_.at(w));
          q.tail.push_back(kAsk);
          for (const auto& w : line.answer) {
            q.tail.push_back(kCue);
            q.answer.push_back(ids_.at(w));
          }
          split.questions.push_back(std::move(q));
        }
      }
    split.by_length.resize(split.questions.size());
    for (size_t i = 0; i < split.questions.size(); ++i) split.by_length[i] = static_cast<int64_t>(i);
    std::stable_sort(split.by_length.begin(), split.by_length.end(), [&](int64_t a, int64_t b) {
      return split.questions[a].length() < split.questions[b].length();
    });
  }
}

Batch BabiTask::pack(const Split& split, const std::vector<int64_t>& indices) const {
  std::vector<TokenSequence> seqs;
  for (int64_t i : indices) {
    const Question& q = split.questions[i];
    const std::vector<int64_t>& story = split.story_tokens[q.story];
    TokenSequence s;
    s.group = "qa" + std::to_string(q.task);
    s.inputs.assign(story.begin(), story.begin() + q.context_end);
    s.inputs.insert(s.inputs.end(), q.tail.begin(), q.tail.end());
    s.targets.assign(s.inputs.size() - q.answer.size(), kNotScored);
    s.targets.insert(s.targets.end(), q.answer.begin(), q.answer.end());
    seqs.push_back(std::move(s));
  }
  return pack_token_batch(seqs, kPad);
}

Batch BabiTask::sample(Generator& g, int64_t B, int64_t, int64_t max_len, bool held_out) const {
  const Split& split = splits_[held_out ? 1 : 0];
  auto fits = std::upper_bound(split.by_length.begin(), split.by_length.end(), max_len,
                               [&](int64_t L, int64_t i) { return L < split.questions[i].length(); });
  int64_t count = fits - split.by_length.begin();
  if (count == 0)
    fail("task", "babi: no {} question fits in length {} (the shortest needs {} tokens)", held_out ? "test" : "train",
         max_len, split.questions[split.by_length.front()].length());
  std::vector<int64_t> indices(B);
  for (auto& i : indices) i = split.by_length[g.randint(0, count)];
  return pack(split, indices);
}

Batch BabiTask::test_batch(int64_t first, int64_t count) const {
  if (first < 0 || count < 1 || first + count > test_questions())
    fail("task", "babi: test questions [{}, {}) are outside [0, {})", first, first + count, test_questions());
  std::vector<int64_t> indices(count);
  for (int64_t i = 0; i < count; ++i) indices[i] = first + i;
  return pack(splits_[1], indices);
}

std::unique_ptr<Task> make_babi_task(const TaskConfig& c) { return std::make_unique<BabiTask>(c.babi_dir); }

}  // namespace sdnc::tasks
