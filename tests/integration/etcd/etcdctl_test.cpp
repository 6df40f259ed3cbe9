// SPDX-License-Identifier: Apache-2.0
//
// Debian's real etcdctl against the shim, and the same scenarios differentially against Debian's real
// etcd: each scenario runs on a fresh store of both servers, outputs are normalised (ids, terms, sizes,
// TTLs, ports, timestamps masked; revisions kept) and must be identical, apart from the differences
// whitelisted below and documented in docs/etcd-compatibility.md.

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using skiff::etcd::testing::CommandResult;
using skiff::etcd::testing::etcdctl;
using skiff::etcd::testing::etcdctl_command;
using skiff::etcd::testing::RealEtcd;
using skiff::etcd::testing::read_file;
using skiff::etcd::testing::Shim;
using skiff::testing::eventually;
using skiff::testing::find_program;
using skiff::testing::run_command;
using skiff::testing::TempDir;

constexpr int kAny = -1000;

/// One etcdctl invocation, or a directive:
///   "@bg NAME SECONDS ARGS"  start `timeout SECONDS etcdctl ARGS` in the background
///   "@wait NAME"             wait for it; its output is the step's output. A step expecting rc 124
///                            (a watch ended by its timeout) and some output ends the watch as soon
///                            as that output appeared (SIGALRM to `timeout`, which then exits 124
///                            exactly as on expiry), so SECONDS is only a bound, not a guess of how
///                            long a loaded machine needs.
///   "@sleep MS"
/// `${VAR}` in args is replaced by an earlier capture.
struct Step {
  Step(std::string a, std::string in = {}, int code = 0, std::string e = {}, std::string c = {})  // NOLINT
      : args(std::move(a)), stdin_data(std::move(in)), rc(code), expect(std::move(e)), capture(std::move(c)) {}

  std::string args;
  std::string stdin_data;
  int rc;                ///< expected exit status on the shim (kAny: not checked)
  std::string expect;    ///< substring expected in stdout or stderr on the shim ("" = none)
  std::string capture;   ///< "VAR=regex" with one group, taken from stdout
};

struct Scenario {
  std::string name;
  std::vector<Step> steps;
};

std::string big_value(std::size_t bytes) { return std::string(bytes, 'v'); }

const std::string kTxnSuccess =
    "mod(\"k1\") = \"0\"\n"
    "\n"
    "put k1 v1\n"
    "put k2 v2\n"
    "\n"
    "get k1\n"
    "\n";

const std::string kTxnFailure =
    "value(\"k1\") = \"nope\"\n"
    "\n"
    "put k1 never\n"
    "\n"
    "get k1\n"
    "get k --prefix\n"
    "\n";

const std::string kTxnMulti =
    "version(\"k1\") = \"1\"\n"
    "create(\"k2\") > \"0\"\n"
    "\n"
    "put k3 v3\n"
    "del k2\n"
    "get k --prefix\n"
    "\n"
    "\n";

std::vector<Scenario> scenarios() {
  return {
      {"put-get",
       {
           {"get foo -w json", "", 0, "\"revision\":1"},
           {"put foo bar", "", 0, "OK"},
           {"put foo2 baz -w json", "", 0, "\"revision\":3"},
           {"put fo x", "", 0, "OK"},
           {"put g y", "", 0, "OK"},
           {"get foo", "", 0, "foo\nbar\n"},
           {"get foo -w json", "", 0, "\"count\":1"},
           {"get foo --print-value-only", "", 0, "bar\n"},
           {"get fo --prefix", "", 0, "fo\nx\nfoo\nbar\nfoo2\nbaz\n"},
           {"get fo --prefix -w json", "", 0, "\"count\":3"},
           {"get fo --prefix --keys-only", "", 0, "fo\n\nfoo\n\nfoo2\n"},
           {"get fo --prefix --limit 2 -w json", "", 0, "\"more\":true"},
           {"get fo --prefix --limit 1 --keys-only -w json", "", 0, "\"count\":3"},
           {"get foo --from-key -w json", "", 0, "\"count\":3"},
           {"get '' --prefix -w json", "", 0, "\"count\":4"},
           {"get fo --prefix --sort-by=MODIFY --order=DESCEND -w json", "", 0, "\"count\":3"},
           {"get fo --prefix --sort-by=VALUE --order=ASCEND", "", 0, "foo\nbar\n"},
           {"get fo --prefix --sort-by=CREATE --order=DESCEND --limit 1 -w json", "", 0, "\"more\":true"},
           {"put foo bar2 -w json", "", 0, "\"revision\":6"},
           {"get foo --rev 2", "", 0, "foo\nbar\n"},
           {"get foo --rev 6 -w json", "", 0, "\"version\":2"},
           {"get foo --rev 1 -w json", "", 0, "\"revision\":6"},
           {"get foo --rev 100", "", 1, "etcdserver: mvcc: required revision is a future revision"},
           {"get missing -w json", "", 0, "\"revision\":6"},
           {"get missing", "", 0, ""},
           {"get foo --consistency=s -w json", "", 0, "\"count\":1"},
           {"put foo bar2 --prev-kv", "", 0, "OK\nfoo\nbar2\n"},
           {"get foo -w json", "", 0, "\"version\":3"},
           {"get --hex foo", "", 0, "\\x66\\x6f\\x6f"},
       }},
      {"delete",
       {
           {"put a 1", "", 0, "OK"},
           {"put a/b 2", "", 0, "OK"},
           {"put a/c 3", "", 0, "OK"},
           {"put b 4", "", 0, "OK"},
           {"put c 5", "", 0, "OK"},
           {"del a/b --prev-kv -w json", "", 0, "\"deleted\":1"},
           {"del a/b -w json", "", 0, "\"revision\":7"},
           {"del zzz", "", 0, "0"},
           {"del a --prefix --prev-kv", "", 0, "2\na\n1\na/c\n3\n"},
           {"get '' --prefix -w json", "", 0, "\"revision\":8"},
           {"del b --from-key -w json", "", 0, "\"deleted\":2"},
           {"get '' --prefix -w json", "", 0, "\"revision\":9"},
           {"put a again", "", 0, "OK"},
           {"get a -w json", "", 0, "\"create_revision\":10"},
           {"get a --rev 2 -w json", "", 0, "\"create_revision\":2"},
           {"get a --rev 8 -w json", "", 0, "\"revision\":10"},
       }},
      {"txn",
       {
           {"txn -i", kTxnSuccess, 0, "SUCCESS"},
           {"get k --prefix -w json", "", 0, "\"revision\":2"},
           {"txn -i -w json", kTxnFailure, 0, "\"ResponseRange\""},
           {"txn -i", kTxnFailure, 0, "FAILURE"},
           {"txn -i -w json", kTxnMulti, 0, "\"succeeded\":true"},
           {"get k --prefix -w json", "", 0, "\"revision\":3"},
           {"txn -i -w json", "\nput k1 z\nput k1 y\n\n\n", 1, "duplicate key given in txn request"},
           {"txn -i -w json", "\nget k1\n\n\n", 0, "\"succeeded\":true"},
       }},
      {"watch-history",
       {
           {"put wk1 a", "", 0, "OK"},
           {"put wk2 b", "", 0, "OK"},
           {"put wk1 c", "", 0, "OK"},
           {"del wk2", "", 0, "1"},
           {"put other x", "", 0, "OK"},
           {"@bg w1 30 watch wk --prefix --rev 2 -w json"},
           {"@bg w2 30 watch wk1 --rev 3 --prev-kv"},
           {"@bg w3 30 watch wk --prefix --rev 4 --prev-kv -w json"},
           {"@wait w1", "", 124, "\"mod_revision\":5"},
           {"@wait w2", "", 124, "PUT\nwk1\na\nwk1\nc\n"},
           {"@wait w3", "", 124, "\"type\":1"},
       }},
      {"watch-live",
       {
           {"put lk0 zero", "", 0, "OK"},
           // Pinned to the next revision (3) rather than "from now": a watcher that connects after
           // the first puts (a slow etcdctl start on a loaded machine) sees the same events. The
           // watch is live whenever it connects first, as it almost always does.
           {"@bg w1 30 watch lk --prefix --prev-kv --rev 3"},
           {"@bg w3 30 watch lk0 lk2 --rev 3"},
           {"put lk1 a", "", 0, "OK"},
           {"put lk1 b", "", 0, "OK"},
           {"put lk0 c", "", 0, "OK"},
           {"del lk --prefix", "", 0, "2"},
           // JSON shows how events are grouped into responses, which depends on whether the watch
           // was live or caught up: this one always starts after the writes (a catch-up).
           {"@bg w2 30 watch lk1 -w json --rev 3"},
           // Each expectation is the end of the watch's output (the @wait ends it there); a deleted
           // key prints an empty value line.
           {"@wait w1", "", 124, "DELETE\nlk1\nb\nlk1\n\n"},
           {"@wait w2", "", 124, "\"mod_revision\":6"},
           {"@wait w3", "", 124, "PUT\nlk1\nb\nPUT\nlk0\nc\nDELETE\nlk0\n\nDELETE\nlk1\n\n"},
       }},
      {"watch-errors",
       {
           {"put x 1", "", 0, "OK"},
           {"put x 2", "", 0, "OK"},
           {"put x 3", "", 0, "OK"},
           {"compaction 3", "", 0, "compacted revision 3"},
           {"@bg w1 3 watch x --rev 1"},
           {"@bg w2 30 watch x --rev 3 -w json"},
           {"@bg w3 3 watch b a"},
           {"@wait w1", "", kAny, "required revision has been compacted"},
           {"@wait w2", "", 124, "\"mod_revision\":4"},
           {"@wait w3", "", kAny, ""},
       }},
      {"lease",
       {
           {"lease grant 60", "", 0, "granted with TTL(60s)", "LEASE=lease ([0-9a-f]+) granted"},
           {"put lk v --lease=${LEASE}", "", 0, "OK"},
           {"put lk2 v2 --lease=${LEASE}", "", 0, "OK"},
           {"get lk -w json", "", 0, "\"lease\":"},
           {"lease timetolive ${LEASE}", "", 0, "granted with TTL(60s)"},
           {"lease timetolive ${LEASE} --keys", "", 0, "attached keys([lk"},
           {"lease timetolive ${LEASE} -w json", "", 0, "\"granted-ttl\":60"},
           {"lease list", "", 0, "found 1 leases"},
           {"lease list -w json", "", 0, "\"leases\""},
           {"lease keep-alive --once ${LEASE}", "", 0, "keepalived with TTL(60)"},
           {"put lk v3", "", 0, "OK"},
           {"lease timetolive ${LEASE} --keys", "", 0, "attached keys([lk2])"},
           {"lease revoke ${LEASE}", "", 0, "revoked"},
           {"get lk --prefix -w json", "", 0, "\"revision\":5"},
           {"lease timetolive ${LEASE}", "", 0, "already expired"},
           {"lease revoke ${LEASE}", "", 1, "etcdserver: requested lease not found"},
           {"lease keep-alive --once ${LEASE}", "", kAny, "requested lease not found"},
           {"put x y --lease=1234", "", 1, "etcdserver: requested lease not found"},
           {"lease grant 1", "", 0, "granted with TTL(2s)"},
           {"lease grant 9000000001", "", 1, "etcdserver: too large lease TTL"},
           {"lease list", "", 0, "found 1 leases"},
       }},
      {"compaction",
       {
           {"put a 1", "", 0, "OK"},
           {"put a 2", "", 0, "OK"},
           {"put b 1", "", 0, "OK"},
           {"del b", "", 0, "1"},
           {"put a 3", "", 0, "OK"},
           {"compaction 4", "", 0, "compacted revision 4"},
           {"get a --rev 3", "", 1, "etcdserver: mvcc: required revision has been compacted"},
           {"get a --rev 4 -w json", "", 0, "\"value\":\"Mg==\""},
           {"get b --rev 4 -w json", "", 0, "\"count\":1"},
           {"get a -w json", "", 0, "\"version\":3"},
           {"compaction 4", "", 1, "etcdserver: mvcc: required revision has been compacted"},
           {"compaction 3", "", 1, "etcdserver: mvcc: required revision has been compacted"},
           {"compaction 100", "", 1, "etcdserver: mvcc: required revision is a future revision"},
           {"compaction --physical 6", "", 0, "compacted revision 6"},
           {"get '' --prefix -w json", "", 0, "\"revision\":6"},
           {"defrag", "", 0, "Finished defragmenting etcd member"},
           {"get a", "", 0, "a\n3\n"},
       }},
      {"maintenance",
       {
           {"put a 1", "", 0, "OK"},
           {"endpoint status -w json", "", 0, "\"leader\""},
           {"endpoint health", "", 0, "is healthy"},
           {"endpoint health -w json", "", 0, "\"health\":true"},
           {"member list -w json", "", 0, "\"name\":\"skiff\""},
           {"endpoint hashkv -w json", "", 0, "\"hash\""},
           {"alarm list", "", 0, ""},
           {"alarm disarm", "", 0, ""},
       }},
      {"kv-edges",
       {
           {"put a 1", "", 0, "OK"},
           {"put b 2", "", 0, "OK"},
           {"put c 3", "", 0, "OK"},
           {"put d 4", "", 0, "OK"},
           {"get a c -w json", "", 0, "\"count\":2"},
           {"get c a -w json", "", 0, "\"revision\":5"},
           {"get a --from-key --limit 2 --keys-only", "", 0, "a\n\nb\n"},
           {"get '' --prefix --order=DESCEND --keys-only", "", 0, "d\n\nc\n\nb\n\na\n"},
           {"get '' --prefix --sort-by=VERSION -w json", "", 0, "\"count\":4"},
           {"get a --from-key --rev 3 -w json", "", 0, "\"count\":2"},
           {"get a --from-key --rev 3 --limit 1 -w json", "", 0, "\"more\":true"},
           {"put a 1 --ignore-value", "", 128, "needs only 1 argument"},
           {"put a --ignore-value", "", 0, "OK"},
           {"put zz --ignore-value", "", 1, "etcdserver: key not found"},
           {"put a x --ignore-lease", "", 0, "OK"},
           {"put zz x --ignore-lease", "", 1, "etcdserver: key not found"},
           {"get a -w json", "", 0, "\"version\":3"},
           {"del a c -w json", "", 0, "\"deleted\":2"},
           {"del c a -w json", "", 0, "\"revision\":8"},
           {"txn", "mod(\"d\") > \"1\"\n\nput d 5\n\nput d 6\n\n", 0, "SUCCESS"},
           {"txn -w json", "create(\"nope\") = \"0\"\nvalue(\"d\") != \"5\"\n\nput e 1\n\ndel d\n\n", 0,
            "\"deleted\":1"},
           {"get '' --prefix -w json", "", 0, "\"revision\":10"},
           {"lease timetolive 1234", "", 0, "already expired"},
       }},
      {"watch-more",
       {
           {"put wa 1", "", 0, "OK"},
           {"@bg w1 30 watch wb --prev-kv --rev 3"},  // pinned, as in watch-live
           {"@bg w2 30 watch wa --rev 8 -w json"},
           {"@bg w4 4 lease keep-alive 1234"},
           {"put wa 2", "", 0, "OK"},
           {"put wb 3", "", 0, "OK"},
           {"put wb 4", "", 0, "OK"},
           {"del wa wz", "", 0, "2"},
           {"put wa 5", "", 0, "OK"},
           {"put wa 6", "", 0, "OK"},
           {"put wa 7", "", 0, "OK"},
           {"@wait w1", "", 124, "PUT\nwb\n3\nwb\n4\nDELETE\nwb\n4\nwb\n\n"},
           {"@wait w2", "", 124, "\"mod_revision\":9"},
           {"@wait w4", "", kAny, ""},
       }},
      // Alone: while Debian's etcd 3.4 holds a watch with a negative start revision, other watchers'
      // catch-up loses events now and then (seen as w1 of watch-more printing only the DELETE, about
      // 1 run in 3, with etcdctl against etcd alone).
      {"watch-negative-revision",
       {
           {"put wa 1", "", 0, "OK"},
           {"@bg w3 4 watch wa --rev -1"},
           {"put wa 2", "", 0, "OK"},
           {"@wait w3", "", kAny, ""},
       }},
      {"known-differences",
       {
           {"put a 1", "", 0, "OK"},
           {"snapshot save ${DIR}/snapshot.db", "", 5, "Unimplemented"},
           {"move-leader 1234", "", 1, ""},
       }},
      {"bad-input",
       {
           {"get ''", "", 1, "etcdserver: key is not provided"},
           {"put '' x", "", 1, "etcdserver: key is not provided"},
           {"del ''", "", 1, "etcdserver: key is not provided"},
           {"put big", big_value(1400 * 1024), 0, "OK"},
           {"put big", big_value(1600 * 1024), 1, "etcdserver: request is too large"},
           {"put big", big_value(2200 * 1024), 1, "ResourceExhausted"},
           {"get big -w json", "", 0, "\"revision\":2"},
           {"get foo --rev -1 -w json", "", 0, "\"revision\":2"},
       }},
  };
}

// ---------------------------------------------------------------------------------------------------
// Running scenarios

struct StepOutput {
  std::string args;
  CommandResult result;
};

std::string substitute(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [name, value] : vars) {
    const std::string pattern = "${" + name + "}";
    for (auto pos = text.find(pattern); pos != std::string::npos; pos = text.find(pattern)) {
      text.replace(pos, pattern.size(), value);
    }
  }
  return text;
}

std::vector<StepOutput> run_scenario(const Scenario& scenario, const std::string& endpoint) {
  TempDir dir;
  std::map<std::string, std::string> vars;
  vars["DIR"] = dir.path().string();
  std::vector<StepOutput> outputs;
  for (const auto& step : scenario.steps) {
    const std::string args = substitute(step.args, vars);
    StepOutput output{args, {}};
    std::istringstream words(args);
    std::string directive;
    words >> directive;
    if (directive == "@sleep") {
      int ms = 0;
      words >> ms;
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      continue;
    }
    if (directive == "@bg") {
      std::string name;
      int seconds = 0;
      words >> name >> seconds;
      std::string rest;
      std::getline(words, rest);
      const std::string base = dir.file(name);
      std::string input = "/dev/null";
      if (!step.stdin_data.empty()) {
        input = base + ".in";
        std::ofstream(input, std::ios::binary) << step.stdin_data;
      }
      const std::string command = "(timeout " + std::to_string(seconds) + " " + etcdctl_command(endpoint, rest) +
                                  " <" + input + " >" + base + ".out 2>" + base + ".err & echo $! >" + base +
                                  ".pid; wait $!; echo $? >" + base + ".tmp; mv " + base + ".tmp " + base +
                                  ".rc) </dev/null >/dev/null 2>&1 &";
      REQUIRE(run_command(command) == 0);
      continue;
    }
    if (directive == "@wait") {
      std::string name;
      words >> name;
      const std::string base = dir.file(name);
      if (step.rc == 124 && !step.expect.empty()) {
        // Ends the watch once its expected output is there. Both servers get the same treatment, and
        // nothing arrives later in these scenarios (the last event is the expected text).
        const bool seen = eventually(
            [&] {
              return read_file(base + ".out").find(step.expect) != std::string::npos ||
                     !read_file(base + ".rc").empty();
            },
            std::chrono::seconds(60), std::chrono::milliseconds(20));
        const std::string pid = read_file(base + ".pid");
        if (seen && read_file(base + ".rc").empty() && !pid.empty()) {
          ::kill(static_cast<pid_t>(std::stol(pid)), SIGALRM);
        }
      }
      REQUIRE(eventually([&] { return !read_file(base + ".rc").empty(); }, std::chrono::seconds(60),
                         std::chrono::milliseconds(20)));
      output.result.rc = std::stoi(read_file(base + ".rc"));
      output.result.out = read_file(base + ".out");
      output.result.err = read_file(base + ".err");
      outputs.push_back(std::move(output));
      continue;
    }
    output.result = etcdctl(endpoint, args, step.stdin_data);
    if (!step.capture.empty()) {
      const auto eq = step.capture.find('=');
      std::smatch match;
      const std::regex re(step.capture.substr(eq + 1));
      if (std::regex_search(output.result.out, match, re)) vars[step.capture.substr(0, eq)] = match[1].str();
    }
    outputs.push_back(std::move(output));
  }
  return outputs;
}

/// The steps that produce output, in order (directives @bg/@sleep do not).
std::vector<const Step*> output_steps(const Scenario& scenario) {
  std::vector<const Step*> steps;
  for (const auto& step : scenario.steps) {
    if (step.args.rfind("@bg", 0) == 0 || step.args.rfind("@sleep", 0) == 0) continue;
    steps.push_back(&step);
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------------
// Normalisation

std::string normalise_line(std::string line) {
  static const std::vector<std::pair<std::regex, std::string>> rules = {
      {std::regex(R"re("(cluster_id|member_id|raft_term|ID|id|leader|raftIndex|raftTerm|raftAppliedIndex|dbSize|dbSizeInUse|hash|TTL|ttl)":\d+)re"),
       "\"$1\":#"},
      {std::regex(R"re("lease":[1-9]\d*)re"), "\"lease\":#"},
      {std::regex(R"re("version":"[^"]*")re"), "\"version\":\"#\""},
      {std::regex(R"re("(ts|target|took)":"[^"]*")re"), "\"$1\":\"#\""},
      {std::regex(R"re("(peerURLs|clientURLs)":\[[^\]]*\])re"), "\"$1\":[#]"},
      {std::regex(R"re(127\.0\.0\.1:\d+)re"), "EP"},
      // An alternation, not a bracket: "µ" is two bytes to std::regex (health checks under 1 ms
      // print microseconds).
      {std::regex(R"re(took = [0-9.]+(µ|m|n)?s)re"), "took = #"},
      {std::regex(R"re("took":"?[0-9.]+(µ|m|n)?s"?)re"), "\"took\":#"},
      {std::regex(R"re(lease [0-9a-f]+ )re"), "lease # "},
      {std::regex(R"re(remaining\(\d+s\))re"), "remaining(#s)"},
      {std::regex(R"re(^[0-9a-f]{8,16}$)re"), "#"},
      {std::regex(R"re(client-[0-9a-f-]+)re"), "client-#"},
  };
  for (const auto& [re, replacement] : rules) line = std::regex_replace(line, re, replacement);
  // A lease's attached keys are a set: etcd lists them in no fixed order (seen both ways), so sort.
  static const std::regex attached(R"re(attached keys\(\[([^\]]*)\]\))re");
  std::smatch m;
  if (std::regex_search(line, m, attached)) {
    std::istringstream keys(m[1].str());
    std::vector<std::string> sorted;
    for (std::string key; keys >> key;) sorted.push_back(key);
    std::sort(sorted.begin(), sorted.end());
    std::string joined;
    for (const auto& key : sorted) joined += (joined.empty() ? "" : " ") + key;
    line = m.prefix().str() + "attached keys([" + joined + "])" + m.suffix().str();
  }
  return line;
}

std::string normalise(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::string out;
  while (std::getline(in, line)) out += normalise_line(line) + "\n";
  return out;
}

std::string render(const CommandResult& r) {
  return "rc=" + std::to_string(r.rc) + "\n--- stdout\n" + normalise(r.out) + "--- stderr\n" + normalise(r.err);
}

/// Differences between Debian's etcd 3.4.23 and the shim that are accepted (docs/etcd-compatibility.md).
struct Allowed {
  std::string scenario;
  std::string args;  ///< the step's command line (after substitution of ${VAR}s is not needed: raw args)
  std::string reason;
};

const std::vector<Allowed>& allowed_differences() {
  static const std::vector<Allowed> list = {
      {"known-differences", "snapshot save",
       "Maintenance.Snapshot is not implemented (SQLite file copies are Skiff's backup path): etcd saves a "
       "bbolt snapshot, the shim answers Unimplemented"},
      {"watch-negative-revision", "@wait w3",
       "negative start revision: the shim cancels it as compacted (etcd 3.6's answer, chosen by design); "
       "Debian's etcd 3.4.23 treats it like 0 and watches from now"},
      {"known-differences", "move-leader",
       "single member: etcd says the target is not a member, the shim answers Unimplemented"},
  };
  return list;
}

const Allowed* find_allowed(const std::string& scenario, const std::string& args) {
  for (const auto& a : allowed_differences()) {
    if (a.scenario == scenario && args.rfind(a.args, 0) == 0) return &a;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("etcdctl against the shim", "[etcd][etcdctl]") {
  if (find_program("etcdctl").empty()) {
    WARN("etcdctl not installed (Debian etcd-client): skipped");
    return;
  }
  for (const auto& scenario : scenarios()) {
    DYNAMIC_SECTION(scenario.name) {
      Shim shim;
      const auto outputs = run_scenario(scenario, shim.endpoint());
      const auto steps = output_steps(scenario);
      REQUIRE(outputs.size() == steps.size());
      for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto& step = *steps[i];
        const auto& r = outputs[i].result;
        INFO("scenario " << scenario.name << " step " << i << ": etcdctl " << outputs[i].args << "\nrc=" << r.rc
                         << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
        if (step.rc != kAny) CHECK(r.rc == step.rc);
        if (!step.expect.empty()) CHECK((r.out.find(step.expect) != std::string::npos ||
                                         r.err.find(step.expect) != std::string::npos));
      }
    }
  }
}

TEST_CASE("differential conformance: etcdctl against Debian etcd and the shim", "[etcd][conformance]") {
  if (find_program("etcdctl").empty()) {
    WARN("etcdctl not installed (Debian etcd-client): skipped");
    return;
  }
  if (!RealEtcd::available()) {
    WARN("Debian etcd (etcd-server) not installed: differential conformance skipped");
    return;
  }
  int compared = 0;
  int accepted = 0;
  for (const auto& scenario : scenarios()) {
    DYNAMIC_SECTION(scenario.name) {
      std::vector<StepOutput> reference;
      {
        RealEtcd etcd;
        REQUIRE(etcd.started());
        reference = run_scenario(scenario, etcd.endpoint());
      }
      std::vector<StepOutput> ours;
      {
        Shim shim;
        ours = run_scenario(scenario, shim.endpoint());
      }
      REQUIRE(reference.size() == ours.size());
      for (std::size_t i = 0; i < ours.size(); ++i) {
        const std::string expected = render(reference[i].result);
        const std::string actual = render(ours[i].result);
        ++compared;
        if (expected == actual) continue;
        const auto raw_args = output_steps(scenario)[i]->args;
        if (const auto* allowed = find_allowed(scenario.name, raw_args)) {
          ++accepted;
          WARN("accepted difference in " << scenario.name << " `" << raw_args << "`: " << allowed->reason
                                         << "\netcd:\n" << expected << "\nshim:\n" << actual);
          continue;
        }
        INFO("scenario " << scenario.name << " step " << i << ": etcdctl " << ours[i].args);
        CHECK(actual == expected);
      }
    }
  }
  WARN("differential conformance: " << compared << " outputs compared, " << accepted << " accepted differences");
}

TEST_CASE("an idle etcdctl watch survives client keepalive pings", "[etcd][etcdctl]") {
  if (find_program("etcdctl").empty()) {
    WARN("etcdctl not installed (Debian etcd-client): skipped");
    return;
  }
  // etcdctl asks for 2 s keepalive pings (gRPC-Go sends them every 10 s at most); the server's ping policy
  // must accept them instead of closing the connection with "too many pings".
  const Scenario idle{"idle-watch",
                      {
                          {"@bg w 40 watch idle --keepalive-time=2s --keepalive-timeout=6s"},
                          {"@sleep 30000"},
                          {"put idle x", "", 0, "OK"},
                          {"@wait w", "", 124, "PUT\nidle\nx\n"},
                      }};
  Shim shim;
  const auto outputs = run_scenario(idle, shim.endpoint());
  REQUIRE(outputs.size() == 2);
  INFO("watch stdout:\n" << outputs[1].result.out << "\nstderr:\n" << outputs[1].result.err);
  CHECK(outputs[1].result.out == "PUT\nidle\nx\n");
  CHECK(outputs[1].result.rc == 124);
}
