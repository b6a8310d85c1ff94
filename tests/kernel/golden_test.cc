// The golden files are the truth a reviewer reads. This proves they are
// also what the kernel holds: for each one, the table `nft -f` loads from
// the file and the table TableWriter installs for the same policy list the
// same, bytecode included, and both equal RenderNft of the policy.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "rules/nft_text.h"
#include "tests/golden_policies.h"
#include "tests/world/world.h"

namespace nmks::world {
namespace {

std::string GoldenPath(const std::string& name) {
  return std::string(NMKS_SOURCE_DIR) + "/tests/golden/" + name + ".nft";
}

// The listing without what only an owned table shows (its `flags` line and
// the owner's "# progname ..." after the table's brace), with whitespace
// runs squashed.
std::string Comparable(const std::string& listing) {
  std::istringstream in(listing);
  std::string kept;
  for (std::string line; std::getline(in, line);) {
    size_t start = line.find_first_not_of(" \t");
    if (start != std::string::npos && line.compare(start, 6, "flags ") == 0) continue;
    if (size_t comment = line.find(" # progname "); comment != std::string::npos) {
      line.erase(comment);
    }
    kept += line + "\n";
  }
  return SquashWhitespace(kept);
}

class GoldenKernelTest : public testing::Test {
 protected:
  void SetUp() override { NMKS_REQUIRE_ROOT(); }
};

TEST_F(GoldenKernelTest, FileAndWriterMakeTheSameTable) {
  for (const GoldenPolicy& golden : GoldenPolicies()) {
    SCOPED_TRACE(golden.name);
    const Ruleset meant = golden.Build();
    Netns from_file("gf");
    Netns from_writer("gw");

    CommandResult load = from_file.Run({"nft", "-f", GoldenPath(golden.name)});
    ASSERT_TRUE(load.ok()) << load.output;
    auto writer = OpenWriter(from_writer, Ownership::kOwned);
    Status installed = writer->Install(meant);
    ASSERT_TRUE(installed.ok()) << installed.message();

    std::string file_listing = ListTable(from_file);
    std::string writer_listing = ListTable(from_writer);
    ASSERT_FALSE(file_listing.empty());
    EXPECT_EQ(Comparable(file_listing), Comparable(writer_listing))
        << "nft -f:\n"
        << file_listing << "\nTableWriter:\n"
        << writer_listing;
    EXPECT_EQ(Comparable(file_listing), Comparable(RenderNft(meant)));

    // Bytecode: what nft made of the text is exactly what the engine means.
    auto loaded = ReadTableIn(from_file);
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    Status same = CompareTable(meant, loaded.value());
    EXPECT_TRUE(same.ok()) << same.message();
  }
}

// The boot file carries the table as nft text for people; a tunnel name
// that nft reads differently (`a","eth0` once added eth0) is refused by
// Validate. Every character a name may have means itself: `nft -f` of the
// rendered text makes exactly the engine's table.
TEST_F(GoldenKernelTest, EveryAllowedNameCharacterMeansItselfInNftText) {
  Policy p;
  p.tunnels = {"Az09-_.+@=", "wg0", "a.b"};
  ASSERT_TRUE(Validate(p).ok()) << Validate(p).message();
  Normalize(p);
  const Ruleset meant = BuildRuleset(p);
  Netns ns("gn");
  CommandResult load = ns.Run({"nft", "-f", "-"}, RenderNft(meant));
  ASSERT_TRUE(load.ok()) << load.output;
  auto loaded = ReadTableIn(ns);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  Status same = CompareTable(meant, loaded.value());
  EXPECT_TRUE(same.ok()) << same.message();
}

// Every golden file has its policy in tests/golden_policies.h, so none
// escapes the test above.
TEST(GoldenFilesTest, EachFileHasAPolicy) {
  std::set<std::string> policies;
  for (const GoldenPolicy& golden : GoldenPolicies()) policies.insert(golden.name);
  const auto dir = std::filesystem::path(NMKS_SOURCE_DIR) / "tests" / "golden";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".nft") continue;
    EXPECT_EQ(policies.count(entry.path().stem().string()), 1u) << entry.path();
  }
}

}  // namespace
}  // namespace nmks::world
