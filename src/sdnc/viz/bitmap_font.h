// bitmap_font.h — a tiny built-in bitmap font (our own glyph table) for labels in figures.
//
// Glyphs are 5 x 7 pixels on a 9-row box: rows 0-6 hold capitals and digits, lower-case
// letters have a 5-row x-height (rows 2-6), and g j p q y , _ reach down into rows 7-8.
// Characters advance 6 pixels. Every printable ASCII character (32-126) has a glyph; any
// other character (control bytes, each UTF-8 code point) is drawn as '?'. All sizes scale by
// an integer factor: scale 2 draws every font pixel as a 2 x 2 block.
#pragma once
#include <string_view>

#include "sdnc/viz/image.h"

namespace sdnc::viz {

// Width in pixels of text drawn on one line at this scale (0 for an empty string).
int text_width(std::string_view text, int scale = 1);
// Height in pixels of the glyph box (capital top to descender bottom): 9 * scale.
int text_height(int scale = 1);

// Draws text left to right with the glyph box's top-left corner at (x, y); clips at the edges.
void draw_text(Image& image, int x, int y, std::string_view text, Rgb color, int scale = 1);

// Draws text turned 90 degrees anticlockwise (reading bottom to top, as a y-axis label).
// (x, y) is the top-left of the turned box, which is text_height() wide and text_width() tall.
void draw_text_up(Image& image, int x, int y, std::string_view text, Rgb color, int scale = 1);

}  // namespace sdnc::viz
