// sdnc — the command-line tool. One file per subcommand; this file wires them up.
#include <cstdio>

#include "sdnc/sdnc.h"

int main(int argc, char** argv) {
  std::printf("sdnc %s\n", "0.1.0");
  return 0;
}
