// trace_page.h — one self-contained HTML page (inline style, no scripts, nothing fetched)
// that shows a trace: a title, text sections (input / target / output as text or small
// plain-text tables, shown preformatted) and figures (PNG files beside the page, each with a
// caption). All text is HTML-escaped, so token text such as "<eos>" shows as written.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sdnc::viz {

struct TextSection {
  std::string heading;  // e.g. "input"; may be empty
  std::string body;     // shown in <pre>: spacing and line breaks are kept
};

struct Figure {
  std::string file;     // PNG path relative to the page's directory, e.g. "layer0_read.png"
  std::string caption;  // shown under the picture
};

struct TracePage {
  std::string title;
  std::vector<TextSection> sections;
  std::vector<Figure> figures;
};

// &, <, >, " and ' as character references.
std::string html_escape(std::string_view text);

// The page's HTML. Throws "[trace_page] ..." for a figure file that is empty or absolute.
std::string render_trace_page(const TracePage& page);

// Writes render_trace_page(page) to path atomically (temporary file + rename). Throws
// "[trace_page] <path>: <problem>".
void write_trace_page(const std::string& path, const TracePage& page);

}  // namespace sdnc::viz
