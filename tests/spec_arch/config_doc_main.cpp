// cimsim_config_doc: prints config_reference_markdown(); `--write FILE` replaces the text
// between "<!-- BEGIN KEYS -->" and "<!-- END KEYS -->" in FILE (docs/config.md) with it.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "platform/spec/arch.h"

int main(int argc, char** argv) {
  const std::string keys = cimsim::config_reference_markdown();
  if (argc == 1) {
    std::cout << keys;
    return 0;
  }
  if (argc != 3 || std::string(argv[1]) != "--write") {
    std::cerr << "usage: cimsim_config_doc [--write docs/config.md]\n";
    return 2;
  }
  std::ifstream in(argv[2]);
  if (!in) {
    std::cerr << argv[2] << ": cannot open\n";
    return 1;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  const std::string begin = "<!-- BEGIN KEYS -->\n";
  const std::string end = "<!-- END KEYS -->";
  size_t b = text.find(begin);
  size_t e = text.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) {
    std::cerr << argv[2] << ": markers '<!-- BEGIN KEYS -->' / '<!-- END KEYS -->' not found\n";
    return 1;
  }
  text = text.substr(0, b + begin.size()) + keys + text.substr(e);
  std::ofstream out(argv[2]);
  out << text;
  return out ? 0 : 1;
}
