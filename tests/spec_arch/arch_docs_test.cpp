// docs/config.md embeds config_reference_markdown() between its markers; they must agree.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "platform/spec/arch.h"
#include "tests/spec_arch/arch_test_util.h"

namespace cimsim {
namespace {

TEST(ArchDocs, ConfigMdMatchesRegistry) {
  std::ifstream in(arch_test::source_path("docs/config.md"));
  ASSERT_TRUE(in) << "docs/config.md missing";
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  const std::string begin = "<!-- BEGIN KEYS -->\n";
  const std::string end = "<!-- END KEYS -->";
  size_t b = text.find(begin);
  size_t e = text.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(text.substr(b + begin.size(), e - b - begin.size()), config_reference_markdown())
      << "docs/config.md is out of date; regenerate with\n"
         "  cmake --build <build> --target cimsim_config_doc && "
         "<build>/bin/cimsim_config_doc --write docs/config.md";
}

TEST(ArchDocs, ReferenceListsEveryKeyOnce) {
  const std::string md = config_reference_markdown();
  for (const char* key : {"| `cores` |", "| `rows` |", "| `cell_bits` |", "| `conversion_ns` |",
                          "| `attach_core` |", "| `seed` |", "| `crossbar_write` |"}) {
    size_t at = md.find(key);
    EXPECT_NE(at, std::string::npos) << key;
    EXPECT_EQ(md.find(key, at + 1), std::string::npos) << key << " listed twice";
  }
}

}  // namespace
}  // namespace cimsim
