// Every source file with a translatable string is in po/POTFILES.in, and
// every file listed there exists: a message that is not extracted is never
// translated. And a translation really reaches the user: this build's
// nm-killswitch, run in German, speaks German.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PoTest, PotfilesListsEveryFileWithTranslatableStrings) {
  const fs::path root = NMKS_SOURCE_DIR;
  std::set<std::string> listed;
  std::istringstream potfiles(Slurp(root / "po" / "POTFILES.in"));
  for (std::string line; std::getline(potfiles, line);) {
    if (line.empty() || line[0] == '#') continue;
    listed.insert(line);
    EXPECT_TRUE(fs::exists(root / line))
        << "po/POTFILES.in lists " << line << ", which does not exist";
  }
  for (const char* dir : {"base", "rules", "guard", "cli", "wireguard", "editor", "editor/gtk",
                          "service", "dispatcher"}) {
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() != ".cc" || name.ends_with("_test.cc")) continue;
      const std::string text = Slurp(entry.path());
      if (text.find("_(\"") == std::string::npos && text.find("N_(\"") == std::string::npos) {
        continue;
      }
      const std::string relative = std::string(dir) + "/" + name;
      EXPECT_TRUE(listed.count(relative)) << relative
                                          << " has translatable strings; add it to "
                                             "po/POTFILES.in";
    }
  }
}

// What a program printed and how it ended.
struct Output {
  std::string out;
  std::string err;
  int exit_code = -1;
};

// Exit codes of the child before it runs the program.
constexpr int kNoNamespace = 125;  // not allowed to make a mount namespace
constexpr int kNoExec = 127;

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// The deepest directory of `path` (itself or an ancestor) that exists.
fs::path ExistingAncestor(fs::path path) {
  while (!fs::is_directory(path) && path.has_relative_path()) path = path.parent_path();
  return path;
}

// Runs `argv` with `mo` installed as the German catalogue in the program's
// compiled-in LOCALEDIR, without touching the system: in a private mount
// namespace (a user namespace too when not root), a scratch directory
// holding LOCALEDIR/de/LC_MESSAGES/GETTEXT_PACKAGE.mo is bind-mounted over
// the deepest part of LOCALEDIR that exists. The environment is ours with
// the locale variables replaced by `locale_env`.
Output RunWithCatalogue(const fs::path& scratch, const fs::path& mo,
                        const std::vector<std::string>& argv,
                        const std::vector<std::string>& locale_env) {
  const fs::path localedir = LOCALEDIR;
  const fs::path mount_point = ExistingAncestor(localedir);
  const fs::path tree = scratch / "tree";
  const fs::path messages = tree / localedir.lexically_relative(mount_point) / "de" / "LC_MESSAGES";
  fs::create_directories(messages);
  fs::copy_file(mo, messages / (std::string(GETTEXT_PACKAGE) + ".mo"),
                fs::copy_options::overwrite_existing);

  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string var = *e;
    if (var.starts_with("LC_") || var.starts_with("LANG=") || var.starts_with("LANGUAGE="))
      continue;
    const std::string name = var.substr(0, var.find('=') + 1);
    if (std::any_of(locale_env.begin(), locale_env.end(),
                    [&](const std::string& e) { return e.starts_with(name); })) {
      continue;  // replaced by the caller's value
    }
    env.push_back(var);
  }
  env.insert(env.end(), locale_env.begin(), locale_env.end());
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const auto& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);
  // Everything the child needs is made before fork().
  const bool root = geteuid() == 0;
  const std::string uid_map = "0 " + std::to_string(geteuid()) + " 1";
  const std::string gid_map = "0 " + std::to_string(getegid()) + " 1";
  const std::string out_path = scratch / "stdout", err_path = scratch / "stderr";
  const std::string source = tree.string(), target = mount_point.string();

  Output run;
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0 || err < 0) {
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    run.err = "cannot create " + out_path + " and " + err_path;
    return run;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    auto write_file = [](const char* path, const std::string& text) {
      int fd = open(path, O_WRONLY | O_CLOEXEC);
      bool ok = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      if (fd >= 0) close(fd);
      return ok;
    };
    if (root ? unshare(CLONE_NEWNS) != 0
             : (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 ||
                !write_file("/proc/self/setgroups", "deny") ||
                !write_file("/proc/self/uid_map", uid_map) ||
                !write_file("/proc/self/gid_map", gid_map))) {
      _exit(kNoNamespace);
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      _exit(kNoNamespace);
    }
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(kNoExec);
  }
  close(out);
  close(err);
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  }
  run.out = Slurp(out_path);
  run.err = Slurp(err_path);
  return run;
}

// The German catalogue as this build made it (po/de.po -> .mo) and as
// `meson install` installs it, shown by this build's nm-killswitch. Fails
// if the program prints English where German was asked for.
TEST(PoTest, NmKillswitchSpeaksGerman) {
  const fs::path build = NMKS_BUILD_DIR;
  const fs::path cli = build / "cli" / "nm-killswitch";
  const fs::path mo = build / "po" / "de" / "LC_MESSAGES" / (std::string(GETTEXT_PACKAGE) + ".mo");
  ASSERT_TRUE(fs::exists(cli)) << cli << " is not built";
  ASSERT_TRUE(fs::exists(mo)) << mo << " is not built: is de in po/LINGUAS?";
  ASSERT_NE(ExistingAncestor(LOCALEDIR), fs::path("/"))
      << "nothing of LOCALEDIR " << LOCALEDIR << " exists to mount the catalogue on";
  const fs::path scratch = fs::temp_directory_path() / ("nmks-po-test-" + std::to_string(getpid()));
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  // glibc honours LANGUAGE in every locale but C and POSIX, and C.UTF-8 is
  // always there: no German locale needs to be generated.
  const std::vector<std::string> german = {"LANG=C.UTF-8", "LANGUAGE=de"};

  Output help = RunWithCatalogue(scratch, mo, {cli.string(), "--help"}, german);
  if (help.exit_code == kNoNamespace) {
    fs::remove_all(scratch);
    if (InCi()) FAIL() << "cannot make a mount namespace, and CI must run this test";
    GTEST_SKIP() << "needs root or unprivileged user namespaces (a private mount namespace)";
  }
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("Aufruf: nm-killswitch BEFEHL"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("Befehle:"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("alles außer den angegebenen Tunneln und Endpunkten sperren"),
            std::string::npos)
      << help.out;
  EXPECT_EQ(help.out.find("Commands:"), std::string::npos) << help.out;

  // An error a user meets before anything reaches D-Bus.
  Output bad =
      RunWithCatalogue(scratch, mo, {cli.string(), "engage", "--endpoint", "nonsense"}, german);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("nm-killswitch: Endpunkt „nonsense“: ADRESSE:PORT erwartet"),
            std::string::npos)
      << bad.err;

  // `status` when the guard cannot be reached (no system bus here): the
  // error a user meets first, in German.
  std::vector<std::string> no_bus = german;
  no_bus.push_back("DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + (scratch / "no-bus").string());
  Output status = RunWithCatalogue(scratch, mo, {cli.string(), "status"}, no_bus);
  EXPECT_NE(status.exit_code, 0) << status.out;
  EXPECT_NE(status.err.find("nm-killswitch-guard ist auf dem Systembus nicht erreichbar"),
            std::string::npos)
      << status.err;

  // The VPN plugin's service speaks German too.
  const fs::path service = build / "service" / "nm-killswitch-service";
  Output plugin = RunWithCatalogue(scratch, mo, {service.string(), "--help"}, german);
  EXPECT_EQ(plugin.exit_code, 0) << plugin.err;
  EXPECT_NE(plugin.out.find("Nach dem Trennen nicht beenden"), std::string::npos) << plugin.out;

  // The same program without LANGUAGE speaks English: the German above came
  // from the catalogue, not from the program.
  Output english = RunWithCatalogue(scratch, mo, {cli.string(), "--help"}, {"LANG=C.UTF-8"});
  EXPECT_NE(english.out.find("Commands:"), std::string::npos) << english.out;
  fs::remove_all(scratch);
}

}  // namespace
