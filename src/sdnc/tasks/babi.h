// babi.h — the bAbI tasks (Weston et al. 2015; v1.2, English, 1k: qa1–qa20, one train and one
// test file each) read strictly, and the joint task over all 20 (task name "babi").
//
// File format (every line is checked; any other line is an error "[babi] FILE:LINE: ..."):
//   "ID sentence."                         a statement; ID = 1 starts a new story, otherwise
//                                          ID = the previous line's ID + 1
//   "ID question?<TAB>answer<TAB>ids"      a question; answer = comma-separated words; ids =
//                                          space-separated IDs of earlier statements of the
//                                          same story (the supporting facts, at least one)
//
// Token layout of one question (lower-cased words; V = 4 + the words of all 40 files, sorted):
//   token 0 padding, 1 '-' answer cue, 2 '.' end of statement, 3 '?' end of question, 4.. words
//   inputs  = the story's statements before the question (words, '.'), the question's words,
//             '?', then '-' × k                             (k = the answer's words)
//   targets = −100 everywhere except the k cue steps, which hold the answer's words
// The task length L is the most tokens of a sequence: a batch at length L draws (uniformly)
// only among the questions whose sequence fits in L. Training draws from the 20 train files
// jointly (every question equally likely), evaluation from the 20 test files (the official
// split; held-out questions are the test files', never a train file's). Evaluation group
// "qaN"; metric: answer accuracy per task (a question is right when all its answer words are),
// and the DNC paper's measure, mean error over tasks and the count of tasks with error > 5%
// (scoring.h).
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

struct BabiLine {
  int64_t id = 0;                    // the number the line starts with
  std::vector<std::string> words;    // lower-cased, without the final '.' or '?'
  bool question = false;
  std::vector<std::string> answer;   // questions: the answer's words
  std::vector<int64_t> supporting;   // questions: IDs of the supporting statements
};

struct BabiStory {
  std::vector<BabiLine> lines;
};

// Throws "[babi] PATH:LINE: ..." on the first malformed line, "[babi] PATH: ..." for an
// unreadable or empty file.
std::vector<BabiStory> parse_babi_file(const std::string& path);

// The train and test file of task n (1..20) in `dir`: the files named qaN_*_train.txt and
// qaN_*_test.txt. Throws "[babi] DIR: ..." when the folder or a file is missing or ambiguous.
std::array<std::string, 2> babi_files(const std::string& dir, int task);

// The joint task. make_task({"babi", babi_dir = DIR}) builds one; a study evaluates the whole
// test split through test_questions() / test_batch() (the task's sample() draws at random).
class BabiTask : public Task {
 public:
  explicit BabiTask(const std::string& dir);
  std::string name() const override { return "babi"; }
  TaskKind kind() const override { return TaskKind::Tokens; }
  int64_t input_size() const override { return static_cast<int64_t>(words_.size()); }
  int64_t output_size() const override { return input_size(); }
  int64_t max_steps(int64_t L) const override { return L; }
  // min_length is not used: a sequence is as long as its story (at most max_length).
  Batch sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool held_out) const override;

  // Questions of the 20 test files, in file order (qa1 first); test_batch packs [first,
  // first + count) of them.
  int64_t test_questions() const { return static_cast<int64_t>(splits_[1].questions.size()); }
  Batch test_batch(int64_t first, int64_t count) const;
  // Every word, by token id (ids 0–3 are padding, '-', '.', '?').
  const std::vector<std::string>& words() const { return words_; }

 private:
  struct Question {
    int task;
    int64_t story, context_end;        // the story's tokens [0, context_end) precede it
    std::vector<int64_t> tail;         // question words, '?', cues
    std::vector<int64_t> answer;
    int64_t length() const { return context_end + static_cast<int64_t>(tail.size()); }
  };
  struct Split {
    std::vector<std::vector<int64_t>> story_tokens;
    std::vector<Question> questions;   // file order
    std::vector<int64_t> by_length;    // question indices, shortest first
  };
  void add_file(const std::string& path, int task, Split& split);
  Batch pack(const Split& split, const std::vector<int64_t>& indices) const;

  std::vector<std::string> words_;
  std::map<std::string, int64_t> ids_;
  std::array<Split, 2> splits_;  // train, test
};

}  // namespace sdnc::tasks
