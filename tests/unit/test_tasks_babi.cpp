// bAbI (tasks/babi.h): every shared file parsed, its stories, questions, statements and
// supporting facts counted against an independent line scan; the joint task's sequences
// decoded back to their answers; malformed lines rejected with FILE:LINE. Skips (saying so)
// when the shared data folder is absent.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <sstream>

#include "sdnc/sdnc.h"
#include "sdnc/tasks/babi.h"
#include "sdnc/train/trainer.h"

namespace sdnc {
namespace {

std::string babi_dir() { return train::resolve_babi_dir(train::kDefaultBabiDir); }

struct LineScan {
  int64_t stories = 0, questions = 0, statements = 0, supporting = 0, answer_words = 0;
};

// Counts by lines alone: a question has a tab; a story starts at "1 "; the supporting facts
// are the words of the third tab field; the answer words, the commas of the second plus one.
LineScan scan(const std::string& path) {
  LineScan s;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    s.stories += line.rfind("1 ", 0) == 0;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      ++s.statements;
      continue;
    }
    ++s.questions;
    size_t second = line.find('\t', tab + 1);
    s.answer_words += 1 + std::count(line.begin() + static_cast<std::ptrdiff_t>(tab) + 1,
                                     line.begin() + static_cast<std::ptrdiff_t>(second), ',');
    std::istringstream ids(line.substr(line.rfind('\t') + 1));
    std::string id;
    while (ids >> id) ++s.supporting;
  }
  return s;
}

TEST(Babi, EverySharedFileParsesToItsLineCounts) {
  std::string dir = babi_dir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no bAbI folder (" << dir << "): shared data absent";
  int64_t files = 0, test_questions = 0;
  for (int t = 1; t <= 20; ++t)
    for (const std::string& path : tasks::babi_files(dir, t)) {
      LineScan want = scan(path);
      LineScan got;
      for (const auto& story : tasks::parse_babi_file(path)) {
        ++got.stories;
        for (const auto& line : story.lines) {
          if (!line.question) {
            ++got.statements;
            continue;
          }
          ++got.questions;
          got.supporting += static_cast<int64_t>(line.supporting.size());
          got.answer_words += static_cast<int64_t>(line.answer.size());
          EXPECT_FALSE(line.answer.empty());
          EXPECT_FALSE(line.supporting.empty()) << path;
        }
      }
      EXPECT_EQ(got.stories, want.stories) << path;
      EXPECT_EQ(got.questions, want.questions) << path;
      EXPECT_EQ(got.statements, want.statements) << path;
      EXPECT_EQ(got.supporting, want.supporting) << path;
      EXPECT_EQ(got.answer_words, want.answer_words) << path;
      if (path.ends_with("_test.txt")) test_questions += want.questions;
      ++files;
    }
  EXPECT_EQ(files, 40);
  tasks::BabiTask task(dir);
  EXPECT_EQ(task.test_questions(), test_questions);
}

TEST(Babi, SequencesEndInTheQuestionAndItsAnswer) {
  std::string dir = babi_dir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no bAbI folder (" << dir << "): shared data absent";
  tasks::BabiTask task(dir);
  const auto& words = task.words();
  // The first test question of qa1 (read here from the file): its answer and question words.
  std::string first_question, answer;
  {
    std::ifstream in(tasks::babi_files(dir, 1)[1]);
    std::string line;
    while (std::getline(in, line) && line.find('\t') == std::string::npos) {}
    first_question = line.substr(line.find(' ') + 1, line.find('?') - line.find(' ') - 1);
    answer = line.substr(line.find('\t') + 1, line.rfind('\t') - line.find('\t') - 1);
  }
  tasks::Batch b = task.test_batch(0, 3);
  EXPECT_EQ(b.groups[0], "qa1");
  const int64_t T = b.tokens.size(1);
  std::vector<std::string> text;
  int64_t cue = -1;
  for (int64_t s = 0; s < T; ++s) {
    int64_t id = b.tokens.data<int64_t>()[s], want = b.targets.data<int64_t>()[s];
    if (id == 1) {
      cue = s;
      EXPECT_EQ(words.at(want), answer);
      break;
    }
    EXPECT_EQ(want, -100);
    text.push_back(words.at(id));
  }
  ASSERT_GE(cue, 0);
  std::string tail;  // the words after the last '.', before '?'
  for (size_t i = text.size() - 1; i > 0 && text[i - 1] != "."; --i) tail = text[i - 1] + (tail.empty() ? "" : " ") + tail;
  std::string lower = first_question;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(tail, lower);
  // Training draws only questions that fit the length, from every task.
  Generator g(3);
  tasks::Batch train = task.sample(g, 64, 1, 120, false);
  EXPECT_LE(train.tokens.size(1), 120);
  EXPECT_THROW(task.sample(g, 1, 1, 3, false), Error);
  EXPECT_THROW(task.test_batch(task.test_questions() - 1, 2), Error);
}

class BabiBadFiles : public ::testing::Test {
 protected:
  std::string dir = (std::filesystem::temp_directory_path() / fmt::format("sdnc_babi_{}", getpid())).string();
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  // The error of parsing `text` written to a file, or "".
  std::string error_of(const std::string& text) {
    std::string path = dir + "/qa1_x_train.txt";
    std::ofstream(path) << text;
    try {
      tasks::parse_babi_file(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(BabiBadFiles, MalformedLinesNameFileAndLine) {
  const std::string good = "1 Mary went to the kitchen.\n2 Where is Mary? \tkitchen\t1\n";
  EXPECT_EQ(error_of(good), "");
  const std::string at2 = dir + "/qa1_x_train.txt:2:", at3 = dir + "/qa1_x_train.txt:3:";
  for (const std::string& bad : {
           good + "3 Where is Mary?\tkitchen\n",            // two fields
           good + "3 Where is Mary?\tkitchen\t2\n",         // supporting fact is a question
           good + "3 Where is Mary?\tkitchen\t7\n",         // supporting fact ahead
           good + "3 Where is Mary?\tkitchen\tone\n",       // not a number
           good + "3 Where is Mary?\t\t1\n",                // empty answer
           good + "3 Mary went home\n",                     // no full stop
           good + "3 Where is Mary.\tkitchen\t1\n",         // question without '?'
           good + "5 Mary went home.\n",                    // numbering skips
           good + "x Mary went home.\n",                    // no line number
           good + "\n",                                     // empty line
           good + "3 Mary  went home.\n"}) {                // empty word
    EXPECT_NE(error_of(bad).find(at3), std::string::npos) << bad << " → " << error_of(bad);
  }
  EXPECT_NE(error_of("1 Mary went home.\n3 Mary went out.\n").find(at2), std::string::npos);
  EXPECT_NE(error_of("2 Mary went home.\n").find(dir + "/qa1_x_train.txt:1:"), std::string::npos);
  EXPECT_NE(error_of("").find("empty file"), std::string::npos);
  try {
    tasks::BabiTask missing(dir + "/nowhere");
    ADD_FAILURE() << "a missing folder was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("babi_dir"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sdnc
