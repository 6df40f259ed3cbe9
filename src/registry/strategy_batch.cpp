// SPDX-License-Identifier: Apache-2.0
// batch/v1: Job (defaults, generated selector and labels, validation, template immutability,
// Table row) and CronJob (schedule parsing with robfig/cron's standard grammar and messages).

#include <climits>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "skiff/api/labels.hpp"
#include "skiff/api/time.hpp"

#include "printing.hpp"
#include "strategy_util.hpp"

namespace skiff::registry::strategies {

namespace {

void default_job_spec(json::Value& spec) {
  bool no_completions = spec.get("completions") == nullptr || spec["completions"].is_null();
  bool no_parallelism = spec.get("parallelism") == nullptr || spec["parallelism"].is_null();
  if (no_completions && no_parallelism) {
    spec["completions"] = 1;
  }
  if (no_parallelism) {
    spec["parallelism"] = 1;
  }
  if (spec.get("backoffLimit") == nullptr || spec["backoffLimit"].is_null()) {
    bool per_index =
        spec.get("backoffLimitPerIndex") != nullptr && !spec["backoffLimitPerIndex"].is_null();
    spec["backoffLimit"] = per_index ? std::int64_t{INT32_MAX} : std::int64_t{6};
  }
  set_default(spec, "completionMode", "NonIndexed");
  if (spec.get("suspend") == nullptr || spec["suspend"].is_null()) {
    spec["suspend"] = false;
  }
  bool failure_policy = false;
  if (json::Value* pfp = spec.get("podFailurePolicy"); pfp != nullptr && pfp->is_object()) {
    failure_policy = true;
    if (json::Value* rules = pfp->get("rules"); rules != nullptr && rules->is_array()) {
      for (json::Value& rule : rules->as_array()) {
        if (json::Value* conds = rule.get("onPodConditions");
            conds != nullptr && conds->is_array()) {
          for (json::Value& c : conds->as_array()) {
            set_default(c, "status", "True");
          }
        }
      }
    }
  }
  set_default(spec, "podReplacementPolicy", failure_policy ? "Failed" : "TerminatingOrFailed");
  if (spec.get("manualSelector") == nullptr || spec["manualSelector"].is_null()) {
    spec["manualSelector"] = false;
  }
  if (json::Value* t = spec.get("template"); t != nullptr && t->is_object()) {
    default_pod_template(*t);
  }
}

// generateSelector: the job-name and controller-uid labels (legacy and batch.kubernetes.io/
// forms) on the template, the controller-uid one selected.
void generate_selector(json::Value& job) {
  std::string name = str(job["metadata"], "name");
  std::string uid = str(job["metadata"], "uid");
  json::Value& spec = obj(job, "spec");
  json::Value& tmeta = obj(obj(spec, "template"), "metadata");
  json::Value& labels = obj(tmeta, "labels");
  for (const char* k : {"job-name", "batch.kubernetes.io/job-name"}) {
    if (labels.get(k) == nullptr) {
      labels[k] = name;
    }
  }
  for (const char* k : {"controller-uid", "batch.kubernetes.io/controller-uid"}) {
    if (labels.get(k) == nullptr) {
      labels[k] = uid;
    }
  }
  json::Value& selector = obj(spec, "selector");
  json::Value& match = obj(selector, "matchLabels");
  if (match.get("batch.kubernetes.io/controller-uid") == nullptr) {
    match["batch.kubernetes.io/controller-uid"] = uid;
  }
}

Causes validate_job_spec(const json::Value& spec, const std::string& path) {
  Causes out;
  for (const char* f : {"parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                        "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"}) {
    append(out, nonnegative(spec, f, api::field_child(path, f)));
  }
  std::string mode = str(spec, "completionMode");
  if (!mode.empty()) {
    if (mode != "NonIndexed" && mode != "Indexed") {
      out.push_back(api::field_not_supported(api::field_child(path, "completionMode"), mode,
                                             {"NonIndexed", "Indexed"}));
    }
    if (mode == "Indexed") {
      if (spec["completions"].is_null()) {
        out.push_back(api::field_required(api::field_child(path, "completions"),
                                          "when completion mode is Indexed"));
      }
      if (num(spec, "parallelism") > 100000) {
        out.push_back(api::field_invalid(api::field_child(path, "parallelism"),
                                         num(spec, "parallelism"),
                                         "must be less than or equal to 100000 when completion "
                                         "mode is Indexed"));
      }
    }
  }
  bool failure_policy = spec["podFailurePolicy"].is_object();
  if (std::string prp = str(spec, "podReplacementPolicy"); !prp.empty()) {
    if (prp != "TerminatingOrFailed" && prp != "Failed") {
      out.push_back(api::field_not_supported(api::field_child(path, "podReplacementPolicy"), prp,
                                             {"TerminatingOrFailed", "Failed"}));
    } else if (failure_policy && prp != "Failed") {
      out.push_back(api::field_not_supported(api::field_child(path, "podReplacementPolicy"), prp,
                                             {"Failed"}));
    }
  }
  std::string tpath = api::field_child(path, "template");
  append(out, validate_pod_template(spec["template"], tpath));
  std::string restart = str(spec["template"]["spec"], "restartPolicy");
  std::string rpath = tpath + ".spec.restartPolicy";
  if (restart.empty() || restart == "Always") {
    out.push_back(api::field_required(rpath, "valid values: \"OnFailure\", \"Never\""));
  } else if (restart != "OnFailure" && restart != "Never") {
    out.push_back(api::field_not_supported(rpath, restart, {"OnFailure", "Never"}));
  } else if (failure_policy && restart != "Never") {
    out.push_back(api::field_invalid(rpath, restart,
                                     "only \"Never\" is supported when podFailurePolicy is "
                                     "specified"));
  }
  return out;
}

// ---- cron schedules (robfig/cron v3 ParseStandard) ---------------------------------------------

struct CronField {
  unsigned min;
  unsigned max;
  std::map<std::string, unsigned> names;
};

std::optional<std::string> parse_uint(const std::string& expr, unsigned& out) {
  if (expr.empty()) {
    return fmt::format("failed to parse int from {}: strconv.Atoi: parsing \"{}\": invalid syntax",
                       expr, expr);
  }
  std::size_t i = 0;
  bool negative = false;
  if (expr[0] == '+' || expr[0] == '-') {
    negative = expr[0] == '-';
    i = 1;
  }
  if (i == expr.size() || !std::all_of(expr.begin() + static_cast<std::ptrdiff_t>(i), expr.end(),
                                       [](char c) { return c >= '0' && c <= '9'; })) {
    return fmt::format("failed to parse int from {}: strconv.Atoi: parsing {}: invalid syntax",
                       expr, api::go_quote(expr));
  }
  if (expr.size() - i > 9) {
    return fmt::format("failed to parse int from {}: strconv.Atoi: parsing {}: value out of range",
                       expr, api::go_quote(expr));
  }
  long long v = std::stoll(expr.substr(i));
  if (negative && v != 0) {
    return fmt::format("negative number ({}) not allowed: {}", -v, expr);
  }
  out = static_cast<unsigned>(v);
  return std::nullopt;
}

std::optional<std::string> parse_cron_field(const std::string& field, const CronField& r) {
  std::size_t start = 0;
  while (true) {
    std::size_t comma = field.find(',', start);
    std::string expr =
        field.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::vector<std::string> range_step;
    for (std::size_t b = 0;;) {
      std::size_t slash = expr.find('/', b);
      range_step.push_back(
          expr.substr(b, slash == std::string::npos ? std::string::npos : slash - b));
      if (slash == std::string::npos) {
        break;
      }
      b = slash + 1;
    }
    std::vector<std::string> low_high;
    for (std::size_t b = 0;;) {
      std::size_t dash = range_step[0].find('-', b);
      low_high.push_back(
          range_step[0].substr(b, dash == std::string::npos ? std::string::npos : dash - b));
      if (dash == std::string::npos) {
        break;
      }
      b = dash + 1;
    }
    unsigned lo = 0;
    unsigned hi = 0;
    unsigned step = 1;
    auto int_or_name = [&](const std::string& s, unsigned& v) -> std::optional<std::string> {
      std::string lower = s;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (auto it = r.names.find(lower); it != r.names.end()) {
        v = it->second;
        return std::nullopt;
      }
      return parse_uint(s, v);
    };
    if (low_high[0] == "*" || low_high[0] == "?") {
      lo = r.min;
      hi = r.max;
    } else {
      if (auto e = int_or_name(low_high[0], lo)) {
        return e;
      }
      if (low_high.size() == 1) {
        hi = lo;
      } else if (low_high.size() == 2) {
        if (auto e = int_or_name(low_high[1], hi)) {
          return e;
        }
      } else {
        return "too many hyphens: " + expr;
      }
    }
    if (range_step.size() == 2) {
      if (auto e = parse_uint(range_step[1], step)) {
        return e;
      }
      if (low_high.size() == 1) {
        hi = r.max;
      }
    } else if (range_step.size() > 2) {
      return "too many slashes: " + expr;
    }
    if (lo < r.min) {
      return fmt::format("beginning of range ({}) below minimum ({}): {}", lo, r.min, expr);
    }
    if (hi > r.max) {
      return fmt::format("end of range ({}) above maximum ({}): {}", hi, r.max, expr);
    }
    if (lo > hi) {
      return fmt::format("beginning of range ({}) beyond end of range ({}): {}", lo, hi, expr);
    }
    if (step == 0) {
      return "step of range should be a positive number: " + expr;
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> cron_schedule_error(std::string_view schedule) {
  std::string spec(schedule);
  if (spec.empty()) {
    return "empty spec string";
  }
  // An optional CRON_TZ=/TZ= prefix names the time zone.
  if (spec.rfind("TZ=", 0) == 0 || spec.rfind("CRON_TZ=", 0) == 0) {
    std::size_t eq = spec.find('=');
    std::size_t space = spec.find(' ');
    if (space == std::string::npos) {
      return "provided bad location " + spec.substr(eq + 1) + ": unknown time zone " +
             spec.substr(eq + 1);
    }
    spec = spec.substr(space + 1);
    while (!spec.empty() && spec.front() == ' ') {
      spec.erase(spec.begin());
    }
  }
  if (spec[0] == '@') {
    static const std::set<std::string> kDescriptors = {
        "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"};
    if (kDescriptors.count(spec) != 0) {
      return std::nullopt;
    }
    if (spec.rfind("@every ", 0) == 0) {
      std::string d = spec.substr(7);
      auto parsed = api::parse_duration(d);
      if (!parsed) {
        return fmt::format("failed to parse duration {}: {}", spec, parsed.error().message);
      }
      return std::nullopt;
    }
    return "unrecognized descriptor: " + spec;
  }
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i])) != 0) {
      ++i;
    }
    std::size_t b = i;
    while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i])) == 0) {
      ++i;
    }
    if (i > b) {
      fields.push_back(spec.substr(b, i - b));
    }
  }
  if (fields.size() != 5) {
    std::string list;
    for (const auto& f : fields) {
      list += (list.empty() ? "" : " ") + f;
    }
    return fmt::format("expected exactly 5 fields, found {}: [{}]", fields.size(), list);
  }
  static const std::vector<CronField> kFields = {
      {0, 59, {}},
      {0, 23, {}},
      {1, 31, {}},
      {1,
       12,
       {{"jan", 1},
        {"feb", 2},
        {"mar", 3},
        {"apr", 4},
        {"may", 5},
        {"jun", 6},
        {"jul", 7},
        {"aug", 8},
        {"sep", 9},
        {"oct", 10},
        {"nov", 11},
        {"dec", 12}}},
      {0, 6, {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3}, {"thu", 4}, {"fri", 5}, {"sat", 6}}}};
  for (std::size_t f = 0; f < 5; ++f) {
    if (auto e = parse_cron_field(fields[f], kFields[f])) {
      return e;
    }
  }
  return std::nullopt;
}

namespace {

class JobStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& job) const override {
    json::Value* spec = job.get("spec");
    if (spec == nullptr || !spec->is_object()) {
      return;
    }
    default_job_spec(*spec);
    // Job labels default to the template's (copied: the insert may move members).
    json::Value labels = std::as_const(*spec)["template"]["metadata"]["labels"];
    if (labels.is_object() && std::as_const(job)["metadata"]["labels"].size() == 0) {
      obj(job, "metadata")["labels"] = std::move(labels);
    }
  }
  bool tracks_generation() const override { return true; }
  void prepare_for_create(json::Value& job) const override {
    apply_defaults(job);
    if (!job["spec"].bool_or("manualSelector")) {
      generate_selector(job);
    }
  }
  Causes validate(const json::Value& job) const override {
    Causes out;
    const json::Value& spec = job["spec"];
    if (!spec.bool_or("manualSelector")) {
      if (spec["template"]["metadata"]["labels"].is_null()) {
        out.push_back(api::field_required("spec.template.metadata.labels"));
      }
      if (job["metadata"].string_or("uid").empty()) {
        out.push_back(api::field_required("metadata.uid"));
      }
    }
    append(out, validate_job_spec(spec, "spec"));
    const json::Value& selector = spec["selector"];
    if (selector.is_null()) {
      out.push_back(api::field_required("spec.selector"));
    } else {
      append(out, api::validate_label_selector(selector, "spec.selector"));
    }
    if (auto parsed = api::LabelSelector::from_label_selector(selector);
        parsed && !parsed->matches(spec["template"]["metadata"]["labels"])) {
      out.push_back(api::field_invalid_rendered(
          "spec.template.metadata.labels", go_string_map(spec["template"]["metadata"]["labels"]),
          "`selector` does not match template `labels`"));
    }
    if (str(spec, "completionMode") == "Indexed" && num(spec, "completions") > 0) {
      std::string name = str(job["metadata"], "name");
      std::string host = fmt::format("{}-{}", name, num(spec, "completions") - 1);
      if (!api::is_dns1123_label(host).empty()) {
        out.push_back(api::field_invalid(
            "metadata.name", name, "will not able to create pod with invalid DNS label: " + host));
      }
    }
    return out;
  }
  Causes validate_update(const json::Value& job, const json::Value& old) const override {
    Causes out = validate(job);
    const json::Value& spec = job["spec"];
    const json::Value& old_spec = old["spec"];
    bool elastic = str(spec, "completionMode") == "Indexed" &&
                   num(spec, "completions") == num(spec, "parallelism") &&
                   num(old_spec, "completions") == num(old_spec, "parallelism");
    if (!elastic) {
      append(out, api::validate_immutable_field(spec["completions"], old_spec["completions"],
                                                "spec.completions"));
    }
    append(out,
           api::validate_immutable_field(spec["selector"], old_spec["selector"], "spec.selector"));
    // Scheduling directives may change while a suspended job has never started.
    json::Value old_template = old_spec["template"];
    if (old_spec.bool_or("suspend") && old["status"]["startTime"].is_null() &&
        old_template.is_object()) {
      const json::Value& t = spec["template"];
      json::Value& ot = old_template;
      for (const char* k : {"nodeSelector", "tolerations", "schedulingGates", "affinity"}) {
        if (const json::Value* v = t["spec"].get(k)) {
          obj(ot, "spec")[k] = *v;
        } else if (ot["spec"].is_object()) {
          ot["spec"].as_object().erase(k);
        }
      }
      for (const char* k : {"labels", "annotations"}) {
        if (const json::Value* v = t["metadata"].get(k)) {
          obj(ot, "metadata")[k] = *v;
        } else if (ot["metadata"].is_object()) {
          ot["metadata"].as_object().erase(k);
        }
      }
    }
    append(out, api::validate_immutable_field(spec["template"], old_template, "spec.template"));
    append(out, api::validate_immutable_field(spec["completionMode"], old_spec["completionMode"],
                                              "spec.completionMode"));
    append(out,
           api::validate_immutable_field(spec["podFailurePolicy"], old_spec["podFailurePolicy"],
                                         "spec.podFailurePolicy"));
    append(out, api::validate_immutable_field(spec["backoffLimitPerIndex"],
                                              old_spec["backoffLimitPerIndex"],
                                              "spec.backoffLimitPerIndex"));
    return out;
  }
  std::vector<std::string> field_labels() const override { return {"status.successful"}; }
  std::optional<std::string> field_value(const json::Value& job,
                                         std::string_view label) const override {
    if (label == "status.successful") {
      return std::to_string(num(job["status"], "succeeded"));
    }
    return std::nullopt;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Status", "string", 0, "Status of the job."),
            column("Completions", "string", 0, "The number of succeeded pods of the job."),
            column("Duration", "string", 0, "Time required to complete the job."),
            age_column(),
            column("Containers", "string", 1, "Names of each container in the template."),
            column("Images", "string", 1, "Images referenced by each container in the template."),
            column("Selector", "string", 1, "The label selector of the pods.")};
  }
  json::Array cells(const json::Value& job, TimePoint now) const override {
    const json::Value& spec = job["spec"];
    const json::Value& status = job["status"];
    std::int64_t succeeded = num(status, "succeeded");
    std::string completions;
    if (spec["completions"].is_integral()) {
      completions = fmt::format("{}/{}", succeeded, num(spec, "completions"));
    } else if (num(spec, "parallelism") > 1) {
      completions = fmt::format("{}/1 of {}", succeeded, num(spec, "parallelism"));
    } else {
      completions = fmt::format("{}/1", succeeded);
    }
    std::string duration;
    auto start = api::parse_rfc3339(status.string_or("startTime"));
    if (!status.string_or("startTime").empty() && start) {
      auto end = api::parse_rfc3339(status.string_or("completionTime"));
      api::Timestamp until =
          !status.string_or("completionTime").empty() && end ? *end : api::to_timestamp(now);
      duration = api::human_duration(std::chrono::duration_cast<api::GoDuration>(until - *start));
    }
    std::string state;
    const json::Value& conds = status["conditions"];
    if (condition_true(conds, "Complete")) {
      state = "Complete";
    } else if (condition_true(conds, "Failed")) {
      state = "Failed";
    } else if (!job["metadata"].string_or("deletionTimestamp").empty()) {
      state = "Terminating";
    } else if (condition_true(conds, "Suspended")) {
      state = "Suspended";
    } else if (condition_true(conds, "FailureTarget")) {
      state = "FailureTarget";
    } else {
      state = "Running";
    }
    auto [names, images] = container_cells(spec["template"]["spec"]["containers"]);
    return {name_cell(job),           json::Value(state),
            json::Value(completions), json::Value(duration),
            age_cell(job, now),       json::Value(names),
            json::Value(images),      json::Value(format_label_selector(spec["selector"]))};
  }
};

class CronJobStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& cj) const override {
    json::Value* spec = cj.get("spec");
    if (spec == nullptr || !spec->is_object()) {
      return;
    }
    set_default(*spec, "concurrencyPolicy", "Allow");
    for (auto [key, value] : {std::pair<const char*, json::Value>{"suspend", false},
                              {"successfulJobsHistoryLimit", 3},
                              {"failedJobsHistoryLimit", 1}}) {
      if (spec->get(key) == nullptr || (*spec)[key].is_null()) {
        (*spec)[key] = value;
      }
    }
    if (json::Value* t = spec->get_path({"jobTemplate", "spec", "template"});
        t != nullptr && t->is_object()) {
      default_pod_template(*t);
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& cj) const override {
    Causes out;
    const json::Value& spec = cj["spec"];
    std::string schedule = str(spec, "schedule");
    if (schedule.empty()) {
      out.push_back(api::field_required("spec.schedule"));
    } else {
      if (auto e = cron_schedule_error(schedule)) {
        out.push_back(api::field_invalid("spec.schedule", schedule, *e));
      }
      if (schedule.find("TZ") != std::string::npos) {
        out.push_back(api::field_invalid("spec.schedule", schedule,
                                         "cannot use TZ or CRON_TZ in schedule, use timeZone field "
                                         "instead"));
      }
    }
    append(out, nonnegative(spec, "startingDeadlineSeconds", "spec.startingDeadlineSeconds"));
    if (const json::Value* tz = spec.get("timeZone"); tz != nullptr && tz->is_string()) {
      const std::string& z = tz->as_string();
      bool ok =
          !z.empty() && z != "Local" && z.find(' ') == std::string::npos &&
          (z == "UTC" || z.find('/') != std::string::npos || z == "GMT" || z.rfind("Etc", 0) == 0);
      if (!ok) {
        out.push_back(api::field_invalid("spec.timeZone", z, "unknown time zone " + z));
      }
    }
    std::string policy = str(spec, "concurrencyPolicy");
    if (policy.empty()) {
      out.push_back(api::field_required("spec.concurrencyPolicy"));
    } else if (policy != "Allow" && policy != "Forbid" && policy != "Replace") {
      out.push_back(api::field_not_supported("spec.concurrencyPolicy", policy,
                                             {"Allow", "Forbid", "Replace"}));
    }
    const json::Value& jt = spec["jobTemplate"];
    append(out, api::validate_labels(jt["metadata"]["labels"], "spec.jobTemplate.metadata.labels"));
    append(out, api::validate_annotations(jt["metadata"]["annotations"],
                                          "spec.jobTemplate.metadata.annotations"));
    append(out, validate_job_spec(jt["spec"], "spec.jobTemplate.spec"));
    if (jt["spec"].bool_or("manualSelector")) {
      out.push_back(api::field_invalid("spec.jobTemplate.spec.manualSelector", true,
                                       "[]string{\"nil\", \"false\"}"));
    }
    append(out, nonnegative(spec, "successfulJobsHistoryLimit", "spec.successfulJobsHistoryLimit"));
    append(out, nonnegative(spec, "failedJobsHistoryLimit", "spec.failedJobsHistoryLimit"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Schedule", "string", 0, "The schedule in Cron format."),
            column("Timezone", "string", 0, "The time zone of the schedule."),
            column("Suspend", "boolean", 0, "Whether later runs are suspended."),
            column("Active", "integer", 0, "The number of running jobs."),
            column("Last Schedule", "string", 0, "When the job was last scheduled."),
            age_column(),
            column("Containers", "string", 1, "Names of each container in the template."),
            column("Images", "string", 1, "Images referenced by each container in the template."),
            column("Selector", "string", 1, "The label selector of the pods.")};
  }
  json::Array cells(const json::Value& cj, TimePoint now) const override {
    const json::Value& spec = cj["spec"];
    const json::Value& status = cj["status"];
    std::string last = status.string_or("lastScheduleTime").empty()
                           ? "<none>"
                           : age_of(status, "lastScheduleTime", now);
    std::string tz = spec["timeZone"].is_string() ? str(spec, "timeZone") : "<none>";
    const json::Value& jt = spec["jobTemplate"]["spec"];
    auto [names, images] = container_cells(jt["template"]["spec"]["containers"]);
    return {name_cell(cj),
            json::Value(str(spec, "schedule")),
            json::Value(tz),
            json::Value(bool_ptr_text(spec.get("suspend"))),
            json::Value(static_cast<std::int64_t>(status["active"].size())),
            json::Value(last),
            age_cell(cj, now),
            json::Value(names),
            json::Value(images),
            json::Value(format_label_selector(jt["selector"]))};
  }
};

}  // namespace

const Strategy* batch_strategy(std::string_view kind) {
  static const JobStrategy kJob;
  static const CronJobStrategy kCronJob;
  if (kind == "Job") {
    return &kJob;
  }
  if (kind == "CronJob") {
    return &kCronJob;
  }
  return nullptr;
}

}  // namespace skiff::registry::strategies
