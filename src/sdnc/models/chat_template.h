// chat_template.h — the prompt a chat model expects for one user message, from the template in
// its GGUF metadata (tokenizer.chat_template, a Jinja program). sdnc does not run Jinja: it
// recognises ChatML templates (those that emit '<|im_start|>' role '\n' content '<|im_end|>'),
// takes the default system message the template inserts when the first message is not a
// system one (the literal '<|im_start|>system\n…<|im_end|>' inside it, if any), and builds
//   [<|im_start|>system\n{system}<|im_end|>\n]<|im_start|>user\n{message}<|im_end|>\n<|im_start|>assistant\n
// which is what the template renders for [{"role": "user", ...}] with add_generation_prompt.
// Other templates are refused: "[chat] <path>: the chat template is not ChatML ...".
#pragma once
#include <string>

namespace sdnc::models {

struct ChatPrompt {
  std::string text;         // the prompt to tokenise (special tokens parsed)
  std::string end_of_turn;  // the token that ends the reply ("<|im_end|>")
};

ChatPrompt chat_prompt(const std::string& chat_template, const std::string& user_message, const std::string& where);

}  // namespace sdnc::models
