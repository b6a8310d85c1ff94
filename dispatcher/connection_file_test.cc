// Reading a connection from NetworkManager's keyfile, for the hook's
// fail-closed path when NetworkManager cannot be asked: a profile as
// NetworkManager writes it is read with its opt-in; anything that is not
// such a file in such a place (another directory, a link, a FIFO, a file
// others may write, a huge or garbled file) is refused, without blocking.
#include "dispatcher/connection_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "dispatcher/opt_in.h"
#include "dispatcher/remotes.h"

namespace nmks::dispatch {
namespace {

using testing::HasSubstr;

constexpr char kUuid[] = "0b5c3a2e-6f4d-4c1e-9a7b-2d8e1f0c3b4a";

// What NetworkManager 1.42 writes for an OpenVPN profile after
// `nm-killswitch enable office --mode lockdown`.
constexpr char kProfile[] = R"([connection]
id=office
uuid=0b5c3a2e-6f4d-4c1e-9a7b-2d8e1f0c3b4a
type=vpn

[vpn]
connection-type=tls
remote=203.0.113.1:1194, vpn.example.com:443:tcp
service-type=org.freedesktop.NetworkManager.openvpn

[ipv4]
method=auto

[ipv6]
addr-gen-mode=stable-privacy
method=auto

[proxy]

[user]
nm-killswitch.allow-lan=no
nm-killswitch.block-at-boot=no
nm-killswitch.mode=lockdown
)";

class ConnectionFileTest : public testing::Test {
 protected:
  void SetUp() override {
    gchar* made = g_dir_make_tmp("nmks-profiles-XXXXXX", nullptr);
    ASSERT_NE(made, nullptr);
    dir_ = made;
    g_free(made);
  }
  void TearDown() override {
    for (const auto& f : files_) std::remove(f.c_str());
    rmdir((dir_ + "/sub").c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    std::string path = dir_ + "/" + name;
    files_.push_back(path);
    std::ofstream(path, std::ios::binary) << content;
    chmod(path.c_str(), mode);
    return path;
  }
  Result<ConnectionPtr> Read(const std::string& path) {
    return ReadConnectionFile(path, {dir_}, geteuid());
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(ConnectionFileTest, AProfileAsNetworkManagerWritesItIsRead) {
  auto c = Read(Write("office.nmconnection", kProfile));
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_STREQ(nm_connection_get_uuid(c.value().get()), kUuid);
  OptInReading opt_in = ReadOptIn(c.value().get());
  EXPECT_TRUE(opt_in.opted_in);
  EXPECT_TRUE(opt_in.problems.empty());
  EXPECT_EQ(opt_in.options.mode, Mode::kLockdown);
  auto kind = ProtectableKind(c.value().get());
  ASSERT_TRUE(kind.ok()) << kind.message();
  EXPECT_EQ(kind.value(), Kind::kOpenVpn);
  EXPECT_EQ(RemotesOf(c.value().get(), kind.value()).remotes.size(), 2u);
}

TEST_F(ConnectionFileTest, AnythingElseIsRefusedWithoutBlocking) {
  const std::string good = Write("office.nmconnection", kProfile);
  auto refused = [&](const std::string& path, const std::vector<std::string>& dirs,
                     const std::string& why) {
    SCOPED_TRACE(path);
    const auto t0 = std::chrono::steady_clock::now();
    auto c = ReadConnectionFile(path, dirs, geteuid());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(c.message(), HasSubstr(why));
  };
  refused(good, SystemConnectionDirs(), "not in a directory NetworkManager keeps profiles in");
  refused(dir_ + "/../" + dir_.substr(dir_.rfind('/') + 1) + "/office.nmconnection", {dir_},
          "not in a directory");
  ASSERT_EQ(mkdir((dir_ + "/sub").c_str(), 0700), 0);
  refused(Write("sub/office.nmconnection", kProfile), {dir_}, "not in a directory");
  const std::string link = dir_ + "/link.nmconnection";
  files_.push_back(link);
  ASSERT_EQ(symlink(good.c_str(), link.c_str()), 0);
  refused(link, {dir_}, "cannot read");
  const std::string fifo = dir_ + "/fifo.nmconnection";
  files_.push_back(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  refused(fifo, {dir_}, "is not a regular file");
  refused(Write("open.nmconnection", kProfile, 0622), {dir_}, "may be written by others");
  {
    SCOPED_TRACE("another owner");
    auto c = ReadConnectionFile(good, {dir_}, geteuid() + 1);
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(c.message(), HasSubstr("is not owned by root"));
  }
  refused(Write("huge.nmconnection", std::string(kMaxConnectionFileBytes + 1, '#')), {dir_},
          "is larger than 1048576 bytes");
  refused(Write("garbled.nmconnection", "[connection\nid=x\n"), {dir_},
          "is not a NetworkManager keyfile");
  refused(dir_ + "/missing.nmconnection", {dir_}, "cannot read");
}

}  // namespace
}  // namespace nmks::dispatch
