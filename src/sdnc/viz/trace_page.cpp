#include "sdnc/viz/trace_page.h"

#include <filesystem>

#include "sdnc/core/error.h"
#include "sdnc/io/atomic_file.h"

namespace sdnc::viz {

namespace {

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:2em auto;max-width:1700px;padding:0 1em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em}"
    "pre{background:#f4f4f4;padding:.75em;overflow-x:auto;border:1px solid #ddd}"
    "figure{margin:1.5em 0}img{max-width:100%;border:1px solid #ddd}"
    "figcaption{margin-top:.4em;color:#444}";

// A relative URL for an <img src>: escaped for the attribute; path separators stay.
std::string figure_src(const Figure& f) {
  SDNC_CHECK(!f.file.empty(), "trace_page", "a figure has no file name (caption \"{}\")", f.caption);
  SDNC_CHECK(!std::filesystem::path(f.file).is_absolute(), "trace_page",
             "figure file {} must be relative to the page", f.file);
  return html_escape(f.file);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_trace_page(const TracePage& page) {
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
                      html_escape(page.title), kStyle);
  if (!page.title.empty()) html += fmt::format("<h1>{}</h1>\n", html_escape(page.title));
  for (const TextSection& s : page.sections) {
    if (!s.heading.empty()) html += fmt::format("<h2>{}</h2>\n", html_escape(s.heading));
    html += fmt::format("<pre>{}</pre>\n", html_escape(s.body));
  }
  for (const Figure& f : page.figures) {
    std::string caption = html_escape(f.caption);
    html += fmt::format("<figure>\n<img src=\"{}\" alt=\"{}\">\n<figcaption>{}</figcaption>\n</figure>\n",
                        figure_src(f), caption, caption);
  }
  html += "</body>\n</html>\n";
  return html;
}

void write_trace_page(const std::string& path, const TracePage& page) {
  std::string html;
  try {
    html = render_trace_page(page);
  } catch (const Error& e) {
    std::string msg = e.what();
    std::string prefix = "[trace_page] ";
    if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    fail("trace_page", "{}: {}", path, msg);
  }
  try {
    write_file_atomically(path, [&](std::ostream& out) { out << html; });
  } catch (const Error& e) {
    std::string msg = e.what();
    std::string prefix = "[write] " + path + ": ";
    if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    fail("trace_page", "{}: {}", path, msg);
  }
}

}  // namespace sdnc::viz
