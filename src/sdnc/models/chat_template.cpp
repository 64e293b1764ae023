// chat_template.cpp — ChatML prompts from a recognised template.
#include "sdnc/models/chat_template.h"

#include "sdnc/core/error.h"

namespace sdnc::models {

ChatPrompt chat_prompt(const std::string& tmpl, const std::string& user, const std::string& where) {
  if (tmpl.find("<|im_start|>") == std::string::npos || tmpl.find("<|im_end|>") == std::string::npos)
    fail("chat", "{}: the chat template is not ChatML (no '<|im_start|>'/'<|im_end|>'); only ChatML templates "
         "are supported", where);
  ChatPrompt p;
  p.end_of_turn = "<|im_end|>";
  // The template's default system message: a string literal holding a newline or a '\n' escape.
  for (const std::string& open : {std::string("<|im_start|>system\n"), std::string("<|im_start|>system\\n")}) {
    const size_t s = tmpl.find(open);
    if (s == std::string::npos) continue;
    const size_t e = tmpl.find("<|im_end|>", s);
    if (e != std::string::npos)
      p.text = "<|im_start|>system\n" + tmpl.substr(s + open.size(), e - s - open.size()) + "<|im_end|>\n";
    break;
  }
  p.text += "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
  return p;
}

}  // namespace sdnc::models
