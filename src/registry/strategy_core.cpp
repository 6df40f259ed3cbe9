// SPDX-License-Identifier: Apache-2.0
// core/v1 kinds other than Pod: Service, Namespace, ConfigMap, Secret, Node, Event (both API
// versions), ServiceAccount, Endpoints, PersistentVolume(Claim), LimitRange, ResourceQuota,
// ReplicationController, PodTemplate.

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "skiff/api/labels.hpp"
#include "skiff/api/quantity.hpp"
#include "skiff/api/time.hpp"

#include "printing.hpp"
#include "strategy_util.hpp"

namespace skiff::registry::strategies {

namespace {

// Go's net.JoinHostPort.
std::string join_host_port(const std::string& host, std::int64_t port) {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

std::string now_rfc3339() {
  return api::format_rfc3339(api::to_timestamp(std::chrono::system_clock::now()));
}

// The Name + Created At table of upstream's default table convertor (kinds whose storage has no
// printer: LimitRange, Role, ClusterRole).
std::vector<PrinterColumn> created_at_columns() {
  return {name_column(), column("Created At", "date", 0, "Time the object was created.")};
}

json::Array created_at_cells(const json::Value& object) {
  std::string ts = str(object["metadata"], "creationTimestamp");
  return {name_cell(object), json::Value(ts.empty() ? "0001-01-01T00:00:00Z" : ts)};
}

// ---- Service ------------------------------------------------------------------------------------

bool externally_accessible(const json::Value& spec) {
  std::string type = str(spec, "type");
  return type == "LoadBalancer" || type == "NodePort" ||
         (type == "ClusterIP" && spec["externalIPs"].size() > 0);
}

bool headless(const json::Value& spec) {
  return str(spec, "clusterIP") == "None";
}

bool valid_ip(std::string_view ip) {
  // IPv4 dotted quad or an IPv6 text form (hex groups, "::").
  if (ip.find(':') == std::string_view::npos) {
    int parts = 0;
    std::size_t start = 0;
    while (true) {
      std::size_t dot = ip.find('.', start);
      std::string_view part =
          ip.substr(start, dot == std::string_view::npos ? ip.npos : dot - start);
      if (part.empty() || part.size() > 3 ||
          !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          std::stoi(std::string(part)) > 255 || (part.size() > 1 && part[0] == '0')) {
        return false;
      }
      ++parts;
      if (dot == std::string_view::npos) {
        break;
      }
      start = dot + 1;
    }
    return parts == 4;
  }
  int groups = 0;
  bool compressed = ip.find("::") != std::string_view::npos;
  if (compressed && ip.find("::", ip.find("::") + 1) != std::string_view::npos) {
    return false;
  }
  std::size_t start = 0;
  while (start <= ip.size()) {
    std::size_t colon = ip.find(':', start);
    std::string_view g =
        ip.substr(start, colon == std::string_view::npos ? ip.npos : colon - start);
    if (!g.empty()) {
      if (g.size() > 4 || !std::all_of(g.begin(), g.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
          })) {
        return false;
      }
      ++groups;
    }
    if (colon == std::string_view::npos) {
      break;
    }
    start = colon + 1;
  }
  return compressed ? groups < 8 : groups == 8;
}

class ServiceStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& svc) const override {
    json::Value* specp = svc.get("spec");
    if (specp == nullptr || !specp->is_object()) {
      return;
    }
    json::Value& spec = *specp;
    set_default(spec, "sessionAffinity", "None");
    if (str(spec, "sessionAffinity") == "None") {
      spec.as_object().erase("sessionAffinityConfig");
    } else if (str(spec, "sessionAffinity") == "ClientIP") {
      const json::Value* t = spec.get_path({"sessionAffinityConfig", "clientIP", "timeoutSeconds"});
      if (t == nullptr || t->is_null()) {
        spec["sessionAffinityConfig"] =
            json::Object{{"clientIP", json::Object{{"timeoutSeconds", 10800}}}};
      }
    }
    set_default(spec, "type", "ClusterIP");
    if (json::Value* ports = spec.get("ports"); ports != nullptr && ports->is_array()) {
      for (json::Value& p : ports->as_array()) {
        if (!p.is_object()) {
          continue;
        }
        set_default(p, "protocol", "TCP");
        const json::Value* tp = p.get("targetPort");
        if (tp == nullptr || tp->is_null() || (tp->is_integral() && tp->as_int() == 0) ||
            (tp->is_string() && tp->as_string().empty())) {
          p["targetPort"] = p.int_or("port", 0);
        }
      }
    }
    if (externally_accessible(spec)) {
      set_default(spec, "externalTrafficPolicy", "Cluster");
    }
    std::string type = str(spec, "type");
    if (unset(spec.get("internalTrafficPolicy")) &&
        (type == "NodePort" || type == "LoadBalancer" || type == "ClusterIP")) {
      spec["internalTrafficPolicy"] = "Cluster";
    }
    if (type == "LoadBalancer" && (spec.get("allocateLoadBalancerNodePorts") == nullptr ||
                                   spec["allocateLoadBalancerNodePorts"].is_null())) {
      spec["allocateLoadBalancerNodePorts"] = true;
    }
  }

  void prepare_for_update(json::Value& svc, const json::Value& old) const override {
    // patchAllocatedValues: an update that omits what the allocator assigned keeps it.
    json::Value& spec = obj(svc, "spec");
    const json::Value& old_spec = old["spec"];
    auto needs_ip = [](const json::Value& s) {
      return s.string_or("type", "ClusterIP") != "ExternalName";
    };
    if (needs_ip(spec) && needs_ip(old_spec)) {
      if (spec.string_or("clusterIP").empty() && old_spec.get("clusterIP") != nullptr) {
        spec["clusterIP"] = old_spec["clusterIP"];
      }
      if (spec["clusterIPs"].size() == 0 && old_spec["clusterIPs"].size() > 0) {
        spec["clusterIPs"] = old_spec["clusterIPs"];
      }
      for (const char* k : {"ipFamilies", "ipFamilyPolicy"}) {
        if (unset(spec.get(k)) && spec.get(k) == nullptr && old_spec.get(k) != nullptr) {
          spec[k] = old_spec[k];
        }
      }
    }
    auto needs_node_port = [](const json::Value& s) {
      std::string_view t = s.string_or("type");
      return t == "NodePort" || t == "LoadBalancer";
    };
    if (needs_node_port(spec) && needs_node_port(old_spec)) {
      if (json::Value* ports = spec.get("ports"); ports != nullptr && ports->is_array()) {
        for (json::Value& p : ports->as_array()) {
          if (!p.is_object() || p.int_or("nodePort", 0) != 0) {
            continue;
          }
          for (const json::Value& op : arr(old_spec, "ports")) {
            if (op.int_or("port", 0) == p.int_or("port", 0) &&
                op.string_or("protocol") == p.string_or("protocol")) {
              if (op.int_or("nodePort", 0) != 0) {
                p["nodePort"] = op["nodePort"];
              }
              break;
            }
          }
        }
      }
      if (spec.int_or("healthCheckNodePort", 0) == 0 &&
          old_spec.int_or("healthCheckNodePort", 0) != 0) {
        spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"];
      }
    }
  }

  Causes validate(const json::Value& svc) const override {
    Causes out;
    const json::Value& spec = svc["spec"];
    std::string type = str(spec, "type");
    bool is_headless = headless(spec);
    if (spec["ports"].size() == 0 && !is_headless && type != "ExternalName") {
      out.push_back(api::field_required("spec.ports"));
    }
    if (type == "LoadBalancer") {
      if (is_headless) {
        out.push_back(api::field_invalid("spec.clusterIPs[0]", "None",
                                         "may not be set to 'None' for LoadBalancer services"));
      }
      const json::Array& ports = arr(spec, "ports");
      for (std::size_t i = 0; i < ports.size(); ++i) {
        if (num(ports[i], "port") == 10250) {
          out.push_back(api::field_invalid(api::field_index("spec.ports", i), 10250,
                                           "may not expose port 10250 externally since it is "
                                           "used by kubelet"));
        }
      }
    } else if (type == "NodePort") {
      if (is_headless) {
        out.push_back(api::field_invalid("spec.clusterIPs[0]", "None",
                                         "may not be set to 'None' for NodePort services"));
      }
    } else if (type == "ExternalName") {
      if (spec["clusterIPs"].size() > 0 || !spec.string_or("clusterIP").empty()) {
        out.push_back(
            api::field_forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
      }
      if (spec["ipFamilies"].size() > 0) {
        out.push_back(
            api::field_forbidden("spec.ipFamilies", "may not be set for ExternalName services"));
      }
      if (!unset(spec.get("ipFamilyPolicy"))) {
        out.push_back(api::field_forbidden("spec.ipFamilyPolicy",
                                           "may not be set for ExternalName services"));
      }
      std::string cname = str(spec, "externalName");
      if (!cname.empty() && cname.back() == '.') {
        cname.pop_back();
      }
      if (!cname.empty()) {
        for (const auto& msg : api::is_dns1123_subdomain(cname)) {
          out.push_back(api::field_invalid("spec.externalName", cname, msg));
        }
      } else {
        out.push_back(api::field_required("spec.externalName"));
      }
    }
    std::set<std::string> names;
    const json::Array& ports = arr(spec, "ports");
    static const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};
    for (std::size_t i = 0; i < ports.size(); ++i) {
      const json::Value& p = ports[i];
      std::string pp = api::field_index("spec.ports", i);
      std::string name = str(p, "name");
      if (ports.size() > 1 && name.empty()) {
        out.push_back(api::field_required(api::field_child(pp, "name")));
      } else if (!name.empty()) {
        for (const auto& msg : api::is_dns1123_label(name)) {
          out.push_back(api::field_invalid(api::field_child(pp, "name"), name, msg));
        }
        if (names.count(name) != 0) {
          out.push_back(api::field_duplicate(api::field_child(pp, "name"), name));
        } else {
          names.insert(name);
        }
      }
      std::int64_t port = num(p, "port");
      for (const auto& msg : port_num_errors(port)) {
        out.push_back(api::field_invalid(api::field_child(pp, "port"), port, msg));
      }
      std::string protocol = str(p, "protocol");
      if (protocol.empty()) {
        out.push_back(api::field_required(api::field_child(pp, "protocol")));
      } else if (std::find(kProtocols.begin(), kProtocols.end(), protocol) == kProtocols.end()) {
        out.push_back(
            api::field_not_supported(api::field_child(pp, "protocol"), protocol, kProtocols));
      }
      append(out, validate_port_num_or_name(p["targetPort"], api::field_child(pp, "targetPort")));
      if (std::string app = str(p, "appProtocol"); !app.empty()) {
        for (const auto& msg : api::is_qualified_name(app)) {
          out.push_back(api::field_invalid(api::field_child(pp, "appProtocol"), app, msg));
        }
      }
    }
    append(out, api::validate_labels(spec["selector"], "spec.selector"));
    std::string affinity = str(spec, "sessionAffinity");
    if (affinity.empty()) {
      out.push_back(api::field_required("spec.sessionAffinity"));
    } else if (affinity != "ClientIP" && affinity != "None") {
      out.push_back(
          api::field_not_supported("spec.sessionAffinity", affinity, {"ClientIP", "None"}));
    }
    if (affinity == "ClientIP") {
      const json::Value* t = spec.get_path({"sessionAffinityConfig", "clientIP", "timeoutSeconds"});
      if (t == nullptr || !t->is_integral()) {
        out.push_back(api::field_required("spec.sessionAffinityConfig.clientIP.timeoutSeconds"));
      } else if (t->as_int() <= 0 || t->as_int() > 86400) {
        out.push_back(api::field_invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                                         t->as_int(), inclusive_range_error(1, 86400)));
      }
    } else if (affinity == "None" && !spec["sessionAffinityConfig"].is_null()) {
      out.push_back(api::field_forbidden("spec.sessionAffinityConfig",
                                         "must not be set when session affinity is None"));
    }
    if (std::string ip = str(spec, "clusterIP"); !ip.empty() && ip != "None" && !valid_ip(ip)) {
      out.push_back(api::field_invalid("spec.clusterIPs[0]", ip,
                                       "must be a valid IP address, (e.g. 10.9.8.7 or "
                                       "2001:db8::ffff)"));
    }
    const json::Array& external = arr(spec, "externalIPs");
    for (std::size_t i = 0; i < external.size(); ++i) {
      std::string ip = external[i].is_string() ? external[i].as_string() : "";
      if (!valid_ip(ip)) {
        out.push_back(api::field_invalid(api::field_index("spec.externalIPs", i), ip,
                                         "must be a valid IP address, (e.g. 10.9.8.7 or "
                                         "2001:db8::ffff)"));
      }
    }
    static const std::vector<std::string> kTypes = {"ClusterIP", "ExternalName", "LoadBalancer",
                                                    "NodePort"};
    if (type.empty()) {
      out.push_back(api::field_required("spec.type"));
    } else if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
      out.push_back(api::field_not_supported("spec.type", type, kTypes));
    }
    if (type == "ClusterIP") {
      for (std::size_t i = 0; i < ports.size(); ++i) {
        if (num(ports[i], "nodePort") != 0) {
          out.push_back(
              api::field_forbidden(api::field_child(api::field_index("spec.ports", i), "nodePort"),
                                   "may not be used when `type` is 'ClusterIP'"));
        }
      }
    }
    std::set<std::string> node_ports;
    std::set<std::string> port_keys;
    for (std::size_t i = 0; i < ports.size(); ++i) {
      std::string pp = api::field_index("spec.ports", i);
      std::int64_t np = num(ports[i], "nodePort");
      if (np != 0) {
        std::string key = fmt::format("{}/{}", str(ports[i], "protocol"), np);
        if (node_ports.count(key) != 0) {
          out.push_back(api::field_duplicate(api::field_child(pp, "nodePort"), np));
        }
        node_ports.insert(key);
      }
      std::string key = fmt::format("{}/{}", str(ports[i], "protocol"), num(ports[i], "port"));
      if (port_keys.count(key) != 0) {
        out.push_back(api::field_duplicate(pp, json::Object{{"protocol", str(ports[i], "protocol")},
                                                            {"port", num(ports[i], "port")}}));
      }
      port_keys.insert(key);
    }
    if (std::string etp = str(spec, "externalTrafficPolicy"); !etp.empty()) {
      if (!externally_accessible(spec)) {
        out.push_back(api::field_invalid("spec.externalTrafficPolicy", etp,
                                         "may only be set for externally-accessible services"));
      } else if (etp != "Cluster" && etp != "Local") {
        out.push_back(
            api::field_not_supported("spec.externalTrafficPolicy", etp, {"Cluster", "Local"}));
      }
    }
    if (std::string itp = str(spec, "internalTrafficPolicy");
        !itp.empty() && itp != "Cluster" && itp != "Local") {
      out.push_back(
          api::field_not_supported("spec.internalTrafficPolicy", itp, {"Cluster", "Local"}));
    }
    return out;
  }

  Causes validate_update(const json::Value& svc, const json::Value& old) const override {
    Causes out;
    const json::Value& spec = svc["spec"];
    const json::Value& old_spec = old["spec"];
    if (str(spec, "type") != "ExternalName" && str(old_spec, "type") != "ExternalName" &&
        !(headless(spec) && headless(old_spec))) {
      auto ips = [](const json::Value& s) {
        std::vector<std::string> v;
        for (const json::Value& ip : arr(s, "clusterIPs")) {
          v.push_back(ip.is_string() ? ip.as_string() : "");
        }
        if (v.empty() && !s.string_or("clusterIP").empty()) {
          v.emplace_back(s.string_or("clusterIP"));
        }
        return v;
      };
      std::vector<std::string> now = ips(spec);
      std::vector<std::string> before = ips(old_spec);
      json::Array rendered;
      for (const auto& ip : now) {
        rendered.emplace_back(ip);
      }
      if (now.size() == before.size()) {
        for (std::size_t i = 0; i < before.size(); ++i) {
          if (before[i] != now[i]) {
            out.push_back(api::field_invalid(api::field_index("spec.clusterIPs", i),
                                             json::Value(rendered), "may not change once set"));
          }
        }
      } else if (before.size() > now.size()) {
        if (now.empty()) {
          out.push_back(api::field_invalid_rendered("spec.clusterIPs[0]", "[]string(nil)",
                                                    "primary clusterIP can not be unset"));
        } else if (now[0] != before[0]) {
          out.push_back(api::field_invalid("spec.clusterIPs[0]", json::Value(rendered),
                                           "may not change once set"));
        }
      } else if (!before.empty() && now[0] != before[0]) {
        out.push_back(api::field_invalid("spec.clusterIPs[0]", json::Value(rendered),
                                         "may not change once set"));
      }
    }
    append(out, validate(svc));
    return out;
  }

  std::vector<std::string> field_labels() const override { return {"spec.clusterIP", "spec.type"}; }
  std::optional<std::string> field_value(const json::Value& svc,
                                         std::string_view label) const override {
    if (label == "spec.clusterIP") {
      return str(svc["spec"], "clusterIP");
    }
    if (label == "spec.type") {
      return str(svc["spec"], "type");
    }
    return std::nullopt;
  }

  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Type", "string", 0, "The service type."),
            column("Cluster-IP", "string", 0, "The service's cluster IP."),
            column("External-IP", "string", 0, "External addresses of the service."),
            column("Port(s)", "string", 0, "The service's ports."),
            age_column(),
            column("Selector", "string", 1, "The service's pod selector.")};
  }

  json::Array cells(const json::Value& svc, TimePoint now) const override {
    const json::Value& spec = svc["spec"];
    std::string type = str(spec, "type");
    std::string cluster_ip = "<none>";
    if (const json::Array& ips = arr(spec, "clusterIPs"); !ips.empty() && ips[0].is_string()) {
      cluster_ip = ips[0].as_string();
    }
    auto join = [](const json::Array& items) {
      std::string out;
      for (const json::Value& i : items) {
        if (!out.empty()) {
          out += ",";
        }
        out += i.is_string() ? i.as_string() : "";
      }
      return out;
    };
    std::string external;
    const json::Array& externals = arr(spec, "externalIPs");
    if (type == "ClusterIP" || type == "NodePort") {
      external = externals.empty() ? "<none>" : join(externals);
    } else if (type == "LoadBalancer") {
      std::string lb = load_balancer_text(svc["status"]["loadBalancer"]);
      if (!externals.empty()) {
        external = lb;
        std::string more = join(externals);
        external = external.empty() ? more : external + "," + more;
      } else {
        external = lb.empty() ? "<pending>" : lb;
      }
    } else if (type == "ExternalName") {
      external = str(spec, "externalName");
    } else {
      external = "<unknown>";
    }
    std::string ports;
    for (const json::Value& p : arr(spec, "ports")) {
      if (!ports.empty()) {
        ports += ",";
      }
      if (num(p, "nodePort") > 0) {
        ports += fmt::format("{}:{}/{}", num(p, "port"), num(p, "nodePort"), str(p, "protocol"));
      } else {
        ports += fmt::format("{}/{}", num(p, "port"), str(p, "protocol"));
      }
    }
    return {name_cell(svc),
            json::Value(type),
            json::Value(cluster_ip),
            json::Value(external),
            json::Value(ports.empty() ? "<none>" : ports),
            age_cell(svc, now),
            json::Value(format_labels(spec["selector"]))};
  }
};

// ---- Namespace ----------------------------------------------------------------------------------

class NamespaceStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& ns) const override {
    std::string name = str(ns["metadata"], "name");
    if (!name.empty()) {
      json::Value& labels = obj(obj(ns, "metadata"), "labels");
      labels["kubernetes.io/metadata.name"] = name;
    }
    if (json::Value* status = ns.get("status"); status != nullptr && status->is_object()) {
      set_default(*status, "phase", "Active");
    }
  }
  void prepare_for_create(json::Value& ns) const override {
    ns["status"] = json::Object{{"phase", "Active"}};
    json::Value& spec = obj(ns, "spec");
    json::Value& finalizers = spec["finalizers"];
    if (!finalizers.is_array()) {
      finalizers = json::Value::array();
    }
    bool has = false;
    for (const json::Value& f : finalizers.as_array()) {
      has = has || (f.is_string() && f.as_string() == "kubernetes");
    }
    if (!has) {
      finalizers.as_array().emplace_back("kubernetes");
    }
  }
  Causes validate(const json::Value& ns) const override {
    Causes out;
    for (const json::Value& f : arr(ns["spec"], "finalizers")) {
      std::string name = f.is_string() ? f.as_string() : "";
      for (const auto& msg : api::is_qualified_name(name)) {
        out.push_back(api::field_invalid("spec.finalizers", name, msg));
      }
      if (name.find('/') == std::string::npos && name != "kubernetes") {
        out.push_back(api::field_invalid("spec.finalizers", name,
                                         "name is neither a standard finalizer name nor is it "
                                         "fully qualified"));
      }
    }
    return out;
  }
  std::vector<std::string> field_labels() const override { return {"status.phase", "name"}; }
  std::optional<std::string> field_value(const json::Value& ns,
                                         std::string_view label) const override {
    if (label == "status.phase") {
      return str(ns["status"], "phase");
    }
    if (label == "name") {
      return str(ns["metadata"], "name");
    }
    return std::nullopt;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Status", "string", 0, "The status of the namespace"),
            age_column()};
  }
  json::Array cells(const json::Value& ns, TimePoint now) const override {
    return {name_cell(ns), json::Value(str(ns["status"], "phase")), age_cell(ns, now)};
  }
};

// ---- ConfigMap / Secret -------------------------------------------------------------------------

constexpr std::int64_t kMaxSecretSize = 1024 * 1024;

Causes immutable_data(const json::Value& now, const json::Value& old,
                      std::initializer_list<const char*> fields) {
  Causes out;
  if (!old.bool_or("immutable")) {
    return out;
  }
  if (!now.bool_or("immutable")) {
    out.push_back(api::field_forbidden("immutable", "field is immutable when `immutable` is set"));
  }
  for (const char* f : fields) {
    auto normalized = [&](const json::Value& v) {
      const json::Value& d = v[f];
      return d.is_object() && d.as_object().empty() ? json::Value() : d;
    };
    if (!(normalized(now) == normalized(old))) {
      out.push_back(api::field_forbidden(f, "field is immutable when `immutable` is set"));
    }
  }
  return out;
}

std::vector<const json::Member*> sorted(const json::Value& map) {
  std::vector<const json::Member*> out;
  if (map.is_object()) {
    for (const auto& m : map.as_object()) {
      out.push_back(&m);
    }
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->key < b->key; });
  return out;
}

class ConfigMapStrategy final : public Strategy {
public:
  Causes validate(const json::Value& cm) const override {
    Causes out;
    std::int64_t total = 0;
    const json::Value& binary = cm["binaryData"];
    for (const json::Member* m : sorted(cm["data"])) {
      for (const auto& msg : config_map_key_errors(m->key)) {
        out.push_back(api::field_invalid(api::field_key("data", m->key), m->key, msg));
      }
      if (binary.get(m->key) != nullptr) {
        out.push_back(api::field_invalid(api::field_key("data", m->key), m->key,
                                         "duplicate of key present in binaryData"));
      }
      total += m->value.is_string() ? static_cast<std::int64_t>(m->value.as_string().size()) : 0;
    }
    for (const json::Member* m : sorted(binary)) {
      for (const auto& msg : config_map_key_errors(m->key)) {
        out.push_back(api::field_invalid(api::field_key("binaryData", m->key), m->key, msg));
      }
      std::string err;
      auto decoded = base64_decode(m->value.is_string() ? m->value.as_string() : "", &err);
      if (!decoded) {
        out.push_back(api::field_invalid(api::field_key("binaryData", m->key), m->key, err));
      } else {
        total += static_cast<std::int64_t>(decoded->size());
      }
    }
    if (total > kMaxSecretSize) {
      out.push_back(api::field_too_long("", kMaxSecretSize));
    }
    return out;
  }
  Causes validate_update(const json::Value& cm, const json::Value& old) const override {
    Causes out = immutable_data(cm, old, {"data", "binaryData"});
    append(out, validate(cm));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Data", "string", 0, "The number of keys."), age_column()};
  }
  json::Array cells(const json::Value& cm, TimePoint now) const override {
    return {name_cell(cm),
            json::Value(static_cast<std::int64_t>(cm["data"].size() + cm["binaryData"].size())),
            age_cell(cm, now)};
  }
};

class SecretStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& secret) const override {
    set_default(secret, "type", "Opaque");
    // v1 stringData is write-only: merged into data (overriding it) on the way in.
    if (const json::Value* found = secret.get("stringData"); found != nullptr) {
      const json::Value string_data = *found;  // copied: adding "data" may move the members
      if (string_data.is_object()) {
        json::Value& data = obj(secret, "data");
        for (const auto& m : string_data.as_object()) {
          data[m.key] = base64_encode(m.value.is_string() ? m.value.as_string() : "");
        }
      }
      secret.as_object().erase("stringData");
    }
  }
  Causes validate(const json::Value& secret) const override {
    Causes out;
    std::int64_t total = 0;
    std::map<std::string, std::string> data;
    for (const json::Member* m : sorted(secret["data"])) {
      for (const auto& msg : config_map_key_errors(m->key)) {
        out.push_back(api::field_invalid(api::field_key("data", m->key), m->key, msg));
      }
      std::string err;
      auto decoded = base64_decode(m->value.is_string() ? m->value.as_string() : "", &err);
      if (!decoded) {
        out.push_back(
            api::field_invalid(api::field_key("data", m->key), "<secret contents redacted>", err));
        continue;
      }
      total += static_cast<std::int64_t>(decoded->size());
      data[m->key] = std::move(*decoded);
    }
    if (total > kMaxSecretSize) {
      out.push_back(api::field_too_long("data", kMaxSecretSize));
    }
    std::string type = str(secret, "type");
    auto required = [&](const char* key) {
      out.push_back(api::field_required(api::field_key("data", key)));
    };
    auto json_key = [&](const char* key) {
      auto it = data.find(key);
      if (it == data.end()) {
        required(key);
        return;
      }
      auto parsed = json::parse(it->second);
      if (!parsed || !parsed->is_object()) {
        out.push_back(api::field_invalid(api::field_key("data", key), "<secret contents redacted>",
                                         parsed ? "json: cannot unmarshal into Go value of type "
                                                  "map[string]interface {}"
                                                : parsed.error().message));
      }
    };
    if (type == "kubernetes.io/service-account-token") {
      if (secret["metadata"]["annotations"]
              .string_or("kubernetes.io/service-account.name")
              .empty()) {
        out.push_back(api::field_required(
            api::field_key("metadata.annotations", "kubernetes.io/service-account.name")));
      }
    } else if (type == "kubernetes.io/dockercfg") {
      json_key(".dockercfg");
    } else if (type == "kubernetes.io/dockerconfigjson") {
      json_key(".dockerconfigjson");
    } else if (type == "kubernetes.io/basic-auth") {
      if (data.count("username") == 0 && data.count("password") == 0) {
        required("username");
        required("password");
      }
    } else if (type == "kubernetes.io/ssh-auth") {
      if (data["ssh-privatekey"].empty()) {
        required("ssh-privatekey");
      }
    } else if (type == "kubernetes.io/tls") {
      if (data.count("tls.crt") == 0) {
        required("tls.crt");
      }
      if (data.count("tls.key") == 0) {
        required("tls.key");
      }
    }
    return out;
  }
  Causes validate_update(const json::Value& secret, const json::Value& old) const override {
    Causes out = api::validate_immutable_field(secret["type"], old["type"], "type");
    append(out, immutable_data(secret, old, {"data"}));
    append(out, validate(secret));
    return out;
  }
  std::vector<std::string> field_labels() const override { return {"type"}; }
  std::optional<std::string> field_value(const json::Value& secret,
                                         std::string_view label) const override {
    if (label == "type") {
      return str(secret, "type");
    }
    return std::nullopt;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Type", "string", 0, "The secret type."),
            column("Data", "string", 0, "The number of keys."), age_column()};
  }
  json::Array cells(const json::Value& secret, TimePoint now) const override {
    return {name_cell(secret), json::Value(str(secret, "type")),
            json::Value(static_cast<std::int64_t>(secret["data"].size())), age_cell(secret, now)};
  }
};

// ---- ServiceAccount -----------------------------------------------------------------------------

class ServiceAccountStrategy final : public Strategy {
public:
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Secrets", "string", 0, "The number of secrets."), age_column()};
  }
  json::Array cells(const json::Value& sa, TimePoint now) const override {
    return {name_cell(sa), json::Value(static_cast<std::int64_t>(sa["secrets"].size())),
            age_cell(sa, now)};
  }
};

// ---- Node ---------------------------------------------------------------------------------------

Causes validate_taints(const json::Value& taints, const std::string& path) {
  Causes out;
  std::set<std::string> seen;
  const json::Array& list = taints.is_array() ? taints.as_array() : json::Array{};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& t = list[i];
    std::string idx = api::field_index(path, i);
    std::string key = str(t, "key");
    append(out, api::validate_label_name(key, api::field_child(idx, "key")));
    std::string value = str(t, "value");
    for (const auto& msg : api::is_valid_label_value(value)) {
      out.push_back(api::field_invalid(api::field_child(idx, "value"), value, msg));
    }
    std::string effect = str(t, "effect");
    if (effect.empty()) {
      out.push_back(api::field_required(api::field_child(idx, "effect")));
    } else if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      out.push_back(api::field_not_supported(api::field_child(idx, "effect"), effect,
                                             {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
    }
    std::string dup = key + "/" + effect;
    if (seen.count(dup) != 0) {
      out.push_back(api::field_duplicate(idx, json::Object{{"key", key}, {"effect", effect}}));
    }
    seen.insert(dup);
  }
  return out;
}

class NodeStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& node) const override {
    if (json::Value* status = node.get("status"); status != nullptr && status->is_object()) {
      if (status->get("allocatable") == nullptr && status->get("capacity") != nullptr &&
          (*status)["capacity"].is_object()) {
        json::Value capacity = (*status)["capacity"];  // copied: the insert may move members
        (*status)["allocatable"] = std::move(capacity);
      }
    }
  }
  Causes validate(const json::Value& node) const override {
    Causes out = validate_taints(node["spec"]["taints"], "spec.taints");
    const json::Array& cidrs = arr(node["spec"], "podCIDRs");
    if (cidrs.size() > 2) {
      out.push_back(api::field_invalid("spec.podCIDRs", json::Value(cidrs),
                                       "may specify no more than one CIDR for each IP family"));
    }
    return out;
  }
  Causes validate_update(const json::Value& node, const json::Value& old) const override {
    Causes out = validate(node);
    const json::Value& spec = node["spec"];
    const json::Value& old_spec = old["spec"];
    if (!old_spec.string_or("podCIDR").empty() &&
        old_spec.string_or("podCIDR") != spec.string_or("podCIDR")) {
      out.push_back(api::field_forbidden("spec.podCIDRs",
                                         "node updates may not change podCIDR except from \"\" to "
                                         "valid"));
    }
    if (!old_spec.string_or("providerID").empty() &&
        old_spec.string_or("providerID") != spec.string_or("providerID")) {
      out.push_back(api::field_forbidden("spec.providerID",
                                         "node updates may not change providerID except from \"\" "
                                         "to valid"));
    }
    return out;
  }
  std::vector<std::string> field_labels() const override { return {"spec.unschedulable"}; }
  std::optional<std::string> field_value(const json::Value& node,
                                         std::string_view label) const override {
    if (label == "spec.unschedulable") {
      return node["spec"].bool_or("unschedulable") ? "true" : "false";
    }
    return std::nullopt;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Status", "string", 0, "The status of the node"),
            column("Roles", "string", 0, "The roles of the node"),
            age_column(),
            column("Version", "string", 0, "The kubelet version."),
            column("Internal-IP", "string", 1, "The node's internal address."),
            column("External-IP", "string", 1, "The node's external address."),
            column("OS-Image", "string", 1, "The node's OS image."),
            column("Kernel-Version", "string", 1, "The node's kernel version."),
            column("Container-Runtime", "string", 1, "The node's container runtime version.")};
  }
  json::Array cells(const json::Value& node, TimePoint now) const override {
    const json::Value& status = node["status"];
    std::string state;
    for (const json::Value& c : arr(status, "conditions")) {
      if (c.string_or("type") == "Ready") {
        state = c.string_or("status") == "True" ? "Ready" : "NotReady";
      }
    }
    if (state.empty()) {
      state = "Unknown";
    }
    if (node["spec"].bool_or("unschedulable")) {
      state += ",SchedulingDisabled";
    }
    std::set<std::string> roles;
    if (const json::Value& labels = node["metadata"]["labels"]; labels.is_object()) {
      constexpr std::string_view kPrefix = "node-role.kubernetes.io/";
      for (const auto& m : labels.as_object()) {
        if (m.key.compare(0, kPrefix.size(), kPrefix) == 0) {
          if (m.key.size() > kPrefix.size()) {
            roles.insert(m.key.substr(kPrefix.size()));
          }
        } else if (m.key == "kubernetes.io/role" && m.value.is_string() &&
                   !m.value.as_string().empty()) {
          roles.insert(m.value.as_string());
        }
      }
    }
    std::string role_text;
    for (const auto& r : roles) {
      role_text += (role_text.empty() ? "" : ",") + r;
    }
    auto address = [&](std::string_view type) {
      for (const json::Value& a : arr(status, "addresses")) {
        if (a.string_or("type") == type) {
          return str(a, "address");
        }
      }
      return std::string("<none>");
    };
    const json::Value& info = status["nodeInfo"];
    auto or_unknown = [&](std::string_view key) {
      std::string v = str(info, key);
      return v.empty() ? std::string("<unknown>") : v;
    };
    return {name_cell(node),
            json::Value(state),
            json::Value(role_text.empty() ? "<none>" : role_text),
            age_cell(node, now),
            json::Value(str(info, "kubeletVersion")),
            json::Value(address("InternalIP")),
            json::Value(address("ExternalIP")),
            json::Value(or_unknown("osImage")),
            json::Value(or_unknown("kernelVersion")),
            json::Value(or_unknown("containerRuntimeVersion"))};
  }
};

// ---- Event --------------------------------------------------------------------------------------

// The core/v1 view of an Event whichever version it is served at: events.k8s.io/v1 names the same
// fields regarding, note, reportingController, deprecatedSource, deprecated*Timestamp,
// deprecatedCount.
struct EventView {
  const json::Value* involved;
  std::string reason, message, type, component, host, reporting_controller, reporting_instance,
      action, first, last, event_time;
  std::int64_t count = 0;
  const json::Value* series = nullptr;
};

EventView event_view(const json::Value& ev, bool events_api) {
  EventView v;
  if (events_api) {
    v.involved = &ev["regarding"];
    v.message = str(ev, "note");
    v.component = str(ev["deprecatedSource"], "component");
    v.host = str(ev["deprecatedSource"], "host");
    v.first = str(ev, "deprecatedFirstTimestamp");
    v.last = str(ev, "deprecatedLastTimestamp");
    v.count = num(ev, "deprecatedCount");
    v.reporting_controller = str(ev, "reportingController");
  } else {
    v.involved = &ev["involvedObject"];
    v.message = str(ev, "message");
    v.component = str(ev["source"], "component");
    v.host = str(ev["source"], "host");
    v.first = str(ev, "firstTimestamp");
    v.last = str(ev, "lastTimestamp");
    v.count = num(ev, "count");
    v.reporting_controller = str(ev, "reportingComponent");
  }
  v.reason = str(ev, "reason");
  v.type = str(ev, "type");
  v.reporting_instance = str(ev, "reportingInstance");
  v.action = str(ev, "action");
  v.event_time = str(ev, "eventTime");
  if (const json::Value* s = ev.get("series"); s != nullptr && s->is_object()) {
    v.series = s;
  }
  return v;
}

std::string micro_age(std::string_view ts, TimePoint now) {
  if (ts.empty()) {
    return "<unknown>";
  }
  auto t = api::parse_rfc3339(ts);
  if (!t) {
    return "<unknown>";
  }
  return api::translate_timestamp_since(*t, api::to_timestamp(now));
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) {
    return "";
  }
  auto e = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(b, e - b + 1);
}

class EventStrategy final : public Strategy {
public:
  explicit EventStrategy(bool events_api) : events_api_(events_api) {}

  Causes validate(const json::Value& ev) const override {
    Causes out;
    EventView v = event_view(ev, events_api_);
    std::string ns = str(ev["metadata"], "namespace");
    std::string involved_ns = str(*v.involved, "namespace");
    std::string involved_path = events_api_ ? "regarding.namespace" : "involvedObject.namespace";
    std::string controller_field = events_api_ ? "reportingController" : "reportingComponent";
    if (v.event_time.empty()) {
      if (involved_ns.empty()) {
        if (!ns.empty() && ns != "default") {
          out.push_back(
              api::field_invalid(involved_path, involved_ns, "does not match event.namespace"));
        }
      } else if (ns != involved_ns) {
        out.push_back(
            api::field_invalid(involved_path, involved_ns, "does not match event.namespace"));
      }
    } else {
      if (involved_ns.empty() && ns != "default" && ns != "kube-system") {
        out.push_back(
            api::field_invalid(involved_path, involved_ns, "does not match event.namespace"));
      }
      if (v.reporting_controller.empty()) {
        out.push_back(api::field_required(controller_field));
      }
      for (const auto& msg : api::is_qualified_name(v.reporting_controller)) {
        out.push_back(api::field_invalid(controller_field, v.reporting_controller, msg));
      }
      auto limited = [&](const std::string& field, const std::string& value, std::size_t limit,
                         bool required) {
        if (required && value.empty()) {
          out.push_back(api::field_required(field));
        }
        if (value.size() > limit) {
          out.push_back(
              api::field_invalid(field, "", fmt::format("can have at most {} characters", limit)));
        }
      };
      limited("reportingInstance", v.reporting_instance, 128, true);
      limited("action", v.action, 128, true);
      limited("reason", v.reason, 128, true);
      limited(events_api_ ? "note" : "message", v.message, 1024, false);
    }
    if (events_api_) {
      if (v.event_time.empty()) {
        out.push_back(api::field_required("eventTime"));
      }
      if (v.type != "Normal" && v.type != "Warning") {
        out.push_back(api::field_invalid("type", "", "has invalid value: " + v.type));
      }
      if (!v.first.empty()) {
        out.push_back(api::field_invalid("deprecatedFirstTimestamp", "", "needs to be unset"));
      }
      if (!v.last.empty()) {
        out.push_back(api::field_invalid("deprecatedLastTimestamp", "", "needs to be unset"));
      }
      if (v.count != 0) {
        out.push_back(api::field_invalid("deprecatedCount", "", "needs to be unset"));
      }
      if (!v.component.empty() || !v.host.empty()) {
        out.push_back(api::field_invalid("deprecatedSource", "", "needs to be unset"));
      }
    }
    for (const auto& msg : api::is_dns1123_subdomain(ns)) {
      out.push_back(api::field_invalid("namespace", ns, msg));
    }
    return out;
  }
  Causes validate_update(const json::Value& ev, const json::Value&) const override {
    // Updates only get the legacy rules upstream (no strict events.k8s.io checks).
    EventStrategy legacy(false);
    return events_api_ ? Causes{} : legacy.validate(ev);
  }

  std::vector<std::string> field_labels() const override {
    return {"involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type"};
  }
  std::optional<std::string> field_value(const json::Value& ev,
                                         std::string_view label) const override {
    EventView v = event_view(ev, events_api_);
    constexpr std::string_view kInvolved = "involvedObject.";
    if (label.substr(0, kInvolved.size()) == kInvolved) {
      std::string_view f = label.substr(kInvolved.size());
      if (f == "kind" || f == "namespace" || f == "name" || f == "uid" || f == "apiVersion" ||
          f == "resourceVersion" || f == "fieldPath") {
        return str(*v.involved, f);
      }
      return std::nullopt;
    }
    if (label == "reason") {
      return v.reason;
    }
    if (label == "reportingComponent") {
      return v.reporting_controller;
    }
    if (label == "source") {
      return v.component.empty() ? v.reporting_controller : v.component;
    }
    if (label == "type") {
      return v.type;
    }
    return std::nullopt;
  }

  std::vector<PrinterColumn> columns() const override {
    return {column("Last Seen", "string", 0, "Time of the most recent occurrence."),
            column("Type", "string", 0, "Normal or Warning."),
            column("Reason", "string", 0, "Why the event happened."),
            column("Object", "string", 0, "The object the event is about."),
            column("Subobject", "string", 1, "The part of the object the event is about."),
            column("Source", "string", 1, "The component that reported the event."),
            column("Message", "string", 0, "What happened."),
            column("First Seen", "string", 1, "Time of the first occurrence."),
            column("Count", "string", 1, "How often the event happened."),
            column("Name", "string", 1, "The event's name.", "name")};
  }
  json::Array cells(const json::Value& ev, TimePoint now) const override {
    EventView v = event_view(ev, events_api_);
    std::string first = v.first.empty() ? micro_age(v.event_time, now) : micro_age(v.first, now);
    std::string last = v.last.empty() ? first : micro_age(v.last, now);
    std::int64_t count = v.count;
    if (v.series != nullptr) {
      last = micro_age(v.series->string_or("lastObservedTime"), now);
      count = num(*v.series, "count");
    } else if (count == 0) {
      count = 1;
    }
    std::string kind = str(*v.involved, "kind");
    std::transform(kind.begin(), kind.end(), kind.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string name = str(*v.involved, "name");
    std::string target = name.empty() ? kind : kind + "/" + name;
    std::string component = v.component.empty() ? v.reporting_controller : v.component;
    std::string instance = v.host.empty() ? v.reporting_instance : v.host;
    std::string source = instance.empty() ? component : component + ", " + instance;
    return {json::Value(last),
            json::Value(v.type),
            json::Value(v.reason),
            json::Value(target),
            json::Value(str(*v.involved, "fieldPath")),
            json::Value(source),
            json::Value(trim(v.message)),
            json::Value(first),
            json::Value(count),
            name_cell(ev)};
  }

private:
  bool events_api_;
};

// ---- Endpoints ----------------------------------------------------------------------------------

class EndpointsStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& ep) const override {
    if (json::Value* subsets = ep.get("subsets"); subsets != nullptr && subsets->is_array()) {
      for (json::Value& ss : subsets->as_array()) {
        if (json::Value* ports = ss.get("ports"); ports != nullptr && ports->is_array()) {
          for (json::Value& p : ports->as_array()) {
            set_default(p, "protocol", "TCP");
          }
        }
      }
    }
  }
  Causes validate(const json::Value& ep) const override {
    Causes out;
    const json::Array& subsets = arr(ep, "subsets");
    for (std::size_t i = 0; i < subsets.size(); ++i) {
      std::string sp = api::field_index("subsets", i);
      const json::Value& ss = subsets[i];
      if (ss["addresses"].size() == 0 && ss["notReadyAddresses"].size() == 0) {
        out.push_back(api::field_required(api::field_child(sp, "addresses"),
                                          "must specify `addresses` or `notReadyAddresses`"));
      }
      const json::Array& addrs = arr(ss, "addresses");
      for (std::size_t a = 0; a < addrs.size(); ++a) {
        std::string ip = str(addrs[a], "ip");
        if (!valid_ip(ip)) {
          out.push_back(api::field_invalid(
              api::field_child(api::field_index(api::field_child(sp, "addresses"), a), "ip"), ip,
              "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
        }
      }
      const json::Array& ports = arr(ss, "ports");
      for (std::size_t p = 0; p < ports.size(); ++p) {
        std::string pp = api::field_index(api::field_child(sp, "ports"), p);
        if (ports.size() > 1 && ports[p].string_or("name").empty()) {
          out.push_back(api::field_required(api::field_child(pp, "name")));
        }
        std::int64_t port = num(ports[p], "port");
        for (const auto& msg : port_num_errors(port)) {
          out.push_back(api::field_invalid(api::field_child(pp, "port"), port, msg));
        }
      }
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Endpoints", "string", 0, "The endpoints' addresses."),
            age_column()};
  }
  json::Array cells(const json::Value& ep, TimePoint now) const override {
    const json::Array& subsets = arr(ep, "subsets");
    std::string text;
    if (subsets.empty()) {
      text = "<none>";
    } else {
      std::vector<std::string> list;
      constexpr std::size_t kMax = 3;
      bool more = false;
      std::size_t count = 0;
      for (const json::Value& ss : subsets) {
        const json::Array& addrs = arr(ss, "addresses");
        const json::Array& ports = arr(ss, "ports");
        if (ports.empty()) {
          count += addrs.size();
          for (const json::Value& a : addrs) {
            if (list.size() == kMax) {
              more = true;
              break;
            }
            list.push_back(str(a, "ip"));
          }
          continue;
        }
        for (const json::Value& port : ports) {
          count += addrs.size();
          for (const json::Value& a : addrs) {
            if (list.size() == kMax) {
              more = true;
              break;
            }
            list.push_back(join_host_port(str(a, "ip"), num(port, "port")));
          }
        }
      }
      for (const auto& l : list) {
        text += (text.empty() ? "" : ",") + l;
      }
      if (more) {
        text = fmt::format("{} + {} more...", text, count - kMax);
      }
    }
    return {name_cell(ep), json::Value(text), age_cell(ep, now)};
  }
};

// ---- PersistentVolume(Claim) --------------------------------------------------------------------

std::string access_modes_text(const json::Value& modes) {
  std::set<std::string> have;
  for (const json::Value& m : modes.is_array() ? modes.as_array() : json::Array{}) {
    if (m.is_string()) {
      have.insert(m.as_string());
    }
  }
  std::string out;
  for (const auto& [mode, shortname] :
       std::vector<std::pair<std::string, std::string>>{{"ReadWriteOnce", "RWO"},
                                                        {"ReadOnlyMany", "ROX"},
                                                        {"ReadWriteMany", "RWX"},
                                                        {"ReadWriteOncePod", "RWOP"}}) {
    if (have.count(mode) != 0) {
      out += (out.empty() ? "" : ",") + shortname;
    }
  }
  return out;
}

std::string storage_class_of(const json::Value& object) {
  if (auto a = object["metadata"]["annotations"].get("volume.beta.kubernetes.io/storage-class");
      a != nullptr && a->is_string()) {
    return a->as_string();
  }
  return str(object["spec"], "storageClassName");
}

std::string quantity_text(const json::Value& value) {
  if (value.is_null()) {
    return "0";
  }
  auto q = api::Quantity::from_json(value);
  return q ? q->to_string() : (value.is_string() ? value.as_string() : "0");
}

static const std::vector<std::string> kAccessModes = {"ReadOnlyMany", "ReadWriteMany",
                                                      "ReadWriteOnce", "ReadWriteOncePod"};

Causes validate_access_modes(const json::Value& spec, const std::string& path) {
  Causes out;
  const json::Array& modes = arr(spec, "accessModes");
  if (modes.empty()) {
    out.push_back(api::field_required(path, "at least 1 access mode is required"));
  }
  for (const json::Value& m : modes) {
    std::string mode = m.is_string() ? m.as_string() : "";
    if (std::find(kAccessModes.begin(), kAccessModes.end(), mode) == kAccessModes.end()) {
      out.push_back(api::field_not_supported(path, mode, kAccessModes));
    }
  }
  return out;
}

class PersistentVolumeStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& pv) const override {
    if (json::Value* spec = pv.get("spec"); spec != nullptr && spec->is_object()) {
      set_default(*spec, "persistentVolumeReclaimPolicy", "Retain");
      set_default(*spec, "volumeMode", "Filesystem");
      default_resource_list(spec->get("capacity"));
    }
    json::Value& status = obj(pv, "status");
    set_default(status, "phase", "Pending");
  }
  void prepare_for_create(json::Value& pv) const override {
    pv["status"] = json::Object{{"phase", "Pending"}, {"lastPhaseTransitionTime", now_rfc3339()}};
  }
  Causes validate(const json::Value& pv) const override {
    const json::Value& spec = pv["spec"];
    Causes out = validate_access_modes(spec, "spec.accessModes");
    const json::Value& cap = spec["capacity"];
    if (cap.get("storage") == nullptr) {
      out.push_back(api::field_required("spec.capacity", "must specify storage"));
    }
    std::string policy = str(spec, "persistentVolumeReclaimPolicy");
    if (!policy.empty() && policy != "Delete" && policy != "Recycle" && policy != "Retain") {
      out.push_back(api::field_not_supported("spec.persistentVolumeReclaimPolicy", policy,
                                             {"Delete", "Recycle", "Retain"}));
    }
    std::string mode = str(spec, "volumeMode");
    if (!mode.empty() && mode != "Block" && mode != "Filesystem") {
      out.push_back(api::field_not_supported("spec.volumeMode", mode, {"Block", "Filesystem"}));
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Capacity", "string"),
            column("Access Modes", "string"),
            column("Reclaim Policy", "string"),
            column("Status", "string"),
            column("Claim", "string"),
            column("StorageClass", "string", 0, "StorageClass of the pv"),
            column("VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pv"),
            column("Reason", "string"),
            age_column(),
            column("VolumeMode", "string", 1)};
  }
  json::Array cells(const json::Value& pv, TimePoint now) const override {
    const json::Value& spec = pv["spec"];
    std::string claim;
    if (const json::Value* ref = spec.get("claimRef"); ref != nullptr && ref->is_object()) {
      claim = str(*ref, "namespace") + "/" + str(*ref, "name");
    }
    std::string phase = str(pv["status"], "phase");
    if (!pv["metadata"].string_or("deletionTimestamp").empty()) {
      phase = "Terminating";
    }
    std::string vac = spec.get("volumeAttributesClassName") != nullptr &&
                              spec["volumeAttributesClassName"].is_string()
                          ? str(spec, "volumeAttributesClassName")
                          : "<unset>";
    std::string mode = spec.get("volumeMode") != nullptr && spec["volumeMode"].is_string()
                           ? str(spec, "volumeMode")
                           : "<unset>";
    return {name_cell(pv),
            json::Value(quantity_text(spec["capacity"]["storage"])),
            json::Value(access_modes_text(spec["accessModes"])),
            json::Value(str(spec, "persistentVolumeReclaimPolicy")),
            json::Value(phase),
            json::Value(claim),
            json::Value(storage_class_of(pv)),
            json::Value(vac),
            json::Value(str(pv["status"], "reason")),
            age_cell(pv, now),
            json::Value(mode)};
  }
};

class PersistentVolumeClaimStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& pvc) const override {
    if (json::Value* spec = pvc.get("spec"); spec != nullptr && spec->is_object()) {
      default_pvc_spec(*spec);
    }
    json::Value& status = obj(pvc, "status");
    set_default(status, "phase", "Pending");
  }
  void prepare_for_create(json::Value& pvc) const override {
    pvc["status"] = json::Object{{"phase", "Pending"}};
  }
  Causes validate(const json::Value& pvc) const override {
    const json::Value& spec = pvc["spec"];
    Causes out = validate_access_modes(spec, "spec.accessModes");
    const json::Value& requests = spec["resources"]["requests"];
    const json::Value* storage = requests.get("storage");
    if (storage == nullptr) {
      out.push_back(api::field_required("spec.resources[storage]"));
    } else {
      auto q = api::Quantity::from_json(*storage);
      if (!q) {
        out.push_back(
            api::field_invalid("spec.resources.requests[storage]", *storage, q.error().message));
      } else if (q->sign() <= 0) {
        out.push_back(api::field_invalid("spec.resources.requests[storage]", q->to_string(),
                                         "must be greater than zero"));
      }
    }
    std::string mode = str(spec, "volumeMode");
    if (!mode.empty() && mode != "Block" && mode != "Filesystem") {
      out.push_back(api::field_not_supported("spec.volumeMode", mode, {"Block", "Filesystem"}));
    }
    return out;
  }
  Causes validate_update(const json::Value& pvc, const json::Value& old) const override {
    Causes out = validate(pvc);
    // The spec is immutable except the storage request (and volumeName while unbound).
    json::Value now = pvc["spec"];
    json::Value before = old["spec"];
    for (json::Value* s : {&now, &before}) {
      if (s->is_object()) {
        if (json::Value* r = s->get("resources"); r != nullptr && r->is_object()) {
          r->as_object().erase("requests");
        }
        s->as_object().erase("volumeAttributesClassName");
      }
    }
    if (str(before, "volumeName").empty() && now.is_object()) {
      now.as_object().erase("volumeName");
      if (before.is_object()) {
        before.as_object().erase("volumeName");
      }
    }
    if (!(now == before)) {
      out.push_back(
          api::field_forbidden("spec",
                               "spec is immutable after creation except resources.requests and "
                               "volumeAttributesClassName for bound claims"));
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Status", "string"),
            column("Volume", "string"),
            column("Capacity", "string"),
            column("Access Modes", "string"),
            column("StorageClass", "string", 0, "StorageClass of the pvc"),
            column("VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pvc"),
            age_column(),
            column("VolumeMode", "string", 1)};
  }
  json::Array cells(const json::Value& pvc, TimePoint now) const override {
    const json::Value& spec = pvc["spec"];
    const json::Value& status = pvc["status"];
    std::string phase = str(status, "phase");
    if (!pvc["metadata"].string_or("deletionTimestamp").empty()) {
      phase = "Terminating";
    }
    std::string capacity;
    std::string modes;
    if (!spec.string_or("volumeName").empty()) {
      modes = access_modes_text(status["accessModes"]);
      capacity = quantity_text(status["capacity"]["storage"]);
    }
    std::string vac = spec["volumeAttributesClassName"].is_string()
                          ? str(spec, "volumeAttributesClassName")
                          : "<unset>";
    std::string mode = spec["volumeMode"].is_string() ? str(spec, "volumeMode") : "<unset>";
    return {name_cell(pvc),        json::Value(phase), json::Value(str(spec, "volumeName")),
            json::Value(capacity), json::Value(modes), json::Value(storage_class_of(pvc)),
            json::Value(vac),      age_cell(pvc, now), json::Value(mode)};
  }
};

// ---- LimitRange / ResourceQuota -----------------------------------------------------------------

class LimitRangeStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& lr) const override {
    json::Value* limits = lr.get_path({"spec", "limits"});
    if (limits == nullptr || !limits->is_array()) {
      return;
    }
    for (json::Value& item : limits->as_array()) {
      if (!item.is_object() || item.string_or("type") != "Container") {
        continue;
      }
      const json::Value& view = item;
      json::Value def = view["default"].is_object() ? view["default"] : json::Value::object();
      json::Value req =
          view["defaultRequest"].is_object() ? view["defaultRequest"] : json::Value::object();
      auto fill = [](json::Value& into, const json::Value& from) {
        if (from.is_object()) {
          for (const auto& m : from.as_object()) {
            if (into.get(m.key) == nullptr) {
              into[m.key] = m.value;
            }
          }
        }
      };
      fill(def, view["max"]);
      fill(req, def);
      fill(req, view["min"]);
      if (!def.as_object().empty()) {
        item["default"] = def;
      }
      if (!req.as_object().empty()) {
        item["defaultRequest"] = req;
      }
    }
  }
  Causes validate(const json::Value& lr) const override {
    Causes out;
    const json::Array& limits = arr(lr["spec"], "limits");
    for (std::size_t i = 0; i < limits.size(); ++i) {
      std::string type = str(limits[i], "type");
      std::string path = api::field_child(api::field_index("spec.limits", i), "type");
      if (type.empty()) {
        out.push_back(api::field_required(path));
      }
      for (const char* k : {"max", "min", "default", "defaultRequest", "maxLimitRequestRatio"}) {
        for (const json::Member* m : sorted(limits[i][k])) {
          auto q = api::Quantity::from_json(m->value);
          if (!q) {
            out.push_back(api::field_invalid(
                api::field_key(api::field_child(api::field_index("spec.limits", i), k), m->key),
                m->value, q.error().message));
          }
        }
      }
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override { return created_at_columns(); }
  json::Array cells(const json::Value& lr, TimePoint) const override {
    return created_at_cells(lr);
  }
};

class ResourceQuotaStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& rq) const override {
    if (json::Value* hard = rq.get_path({"spec", "hard"})) {
      default_resource_list(hard);
    }
  }
  Causes validate(const json::Value& rq) const override {
    Causes out;
    for (const json::Member* m : sorted(rq["spec"]["hard"])) {
      std::string path = api::field_key("spec.hard", m->key);
      auto q = api::Quantity::from_json(m->value);
      if (!q) {
        out.push_back(api::field_invalid(path, m->value, q.error().message));
      } else if (q->sign() < 0) {
        out.push_back(
            api::field_invalid(path, q->to_string(), "must be greater than or equal to 0"));
      }
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Request", "string", 0,
                   "Request represents a minimum amount of cpu/memory that a container may "
                   "consume."),
            column("Limit", "string", 0,
                   "Limits control the maximum amount of cpu/memory that a container may use "
                   "independent of contention on the node."),
            age_column()};
  }
  json::Array cells(const json::Value& rq, TimePoint now) const override {
    const json::Value& hard = rq["status"]["hard"];
    const json::Value& used = rq["status"]["used"];
    std::string request;
    std::string limit;
    for (const json::Member* m : sorted(hard)) {
      std::string piece =
          fmt::format("{}: {}/{}, ", m->key, quantity_text(used[m->key]), quantity_text(m->value));
      auto dot = m->key.find('.');
      if (dot != std::string::npos && m->key.substr(0, dot) == "limits") {
        limit += piece;
      } else {
        request += piece;
      }
    }
    auto strip = [](std::string s) {
      if (s.size() >= 2 && s.compare(s.size() - 2, 2, ", ") == 0) {
        s.resize(s.size() - 2);
      }
      return s;
    };
    return {name_cell(rq), json::Value(strip(request)), json::Value(strip(limit)),
            age_cell(rq, now)};
  }
};

// ---- ReplicationController / PodTemplate --------------------------------------------------------

class ReplicationControllerStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& rc) const override {
    json::Value* specp = rc.get("spec");
    if (specp == nullptr || !specp->is_object()) {
      return;
    }
    json::Value& spec = *specp;
    if (json::Value* tmpl = spec.get("template"); tmpl != nullptr && tmpl->is_object()) {
      // Copied: the inserts below may move the template's members.
      const json::Value labels = (*tmpl)["metadata"]["labels"];
      default_pod_template(*tmpl);
      if (labels.is_object()) {
        if (std::as_const(spec)["selector"].size() == 0) {
          spec["selector"] = labels;
        }
        if (std::as_const(rc)["metadata"]["labels"].size() == 0) {
          obj(rc, "metadata")["labels"] = labels;
        }
      }
    }
    json::Value& spec2 = *rc.get("spec");
    if (spec2.get("replicas") == nullptr || spec2["replicas"].is_null()) {
      spec2["replicas"] = 1;
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& rc) const override {
    Causes out;
    const json::Value& spec = rc["spec"];
    append(out, nonnegative(spec, "minReadySeconds", "spec.minReadySeconds"));
    api::LabelSelector selector = api::LabelSelector::from_set(spec["selector"]);
    if (selector.empty()) {
      out.push_back(api::field_required("spec.selector"));
    }
    append(out, nonnegative(spec, "replicas", "spec.replicas"));
    const json::Value& tmpl = spec["template"];
    if (!tmpl.is_object()) {
      out.push_back(api::field_required("spec.template"));
      return out;
    }
    if (!selector.empty() && !selector.matches(tmpl["metadata"]["labels"])) {
      out.push_back(api::field_invalid_rendered("spec.template.metadata.labels",
                                                go_string_map(tmpl["metadata"]["labels"]),
                                                "`selector` does not match template `labels`"));
    }
    append(out, validate_pod_template(tmpl, "spec.template"));
    std::string restart = str(tmpl["spec"], "restartPolicy");
    if (restart != "Always") {
      out.push_back(
          api::field_not_supported("spec.template.spec.restartPolicy", restart, {"Always"}));
    }
    if (!tmpl["spec"]["activeDeadlineSeconds"].is_null()) {
      out.push_back(api::field_forbidden("spec.template.spec.activeDeadlineSeconds",
                                         "activeDeadlineSeconds in ReplicationController is not "
                                         "Supported"));
    }
    return out;
  }
  std::vector<std::string> field_labels() const override { return {"status.replicas"}; }
  std::optional<std::string> field_value(const json::Value& rc,
                                         std::string_view label) const override {
    if (label == "status.replicas") {
      return std::to_string(num(rc["status"], "replicas"));
    }
    return std::nullopt;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Desired", "integer", 0, "Desired number of replicas."),
            column("Current", "integer", 0, "Most recently observed number of replicas."),
            column("Ready", "integer", 0, "Number of ready replicas."),
            age_column(),
            column("Containers", "string", 1, "Names of each container in the template."),
            column("Images", "string", 1, "Images referenced by each container in the template."),
            column("Selector", "string", 1, "The label selector of the pods.")};
  }
  json::Array cells(const json::Value& rc, TimePoint now) const override {
    const json::Value& spec = rc["spec"];
    auto [names, images] = container_cells(spec["template"]["spec"]["containers"]);
    return {name_cell(rc),
            int_cell(spec, "replicas"),
            int_cell(rc["status"], "replicas"),
            int_cell(rc["status"], "readyReplicas"),
            age_cell(rc, now),
            json::Value(names),
            json::Value(images),
            json::Value(format_labels(spec["selector"]))};
  }
};

class PodTemplateStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& pt) const override {
    if (json::Value* tmpl = pt.get("template"); tmpl != nullptr && tmpl->is_object()) {
      default_pod_template(*tmpl);
    }
  }
  Causes validate(const json::Value& pt) const override {
    return validate_pod_template(pt["template"], "template");
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Containers", "string", 0, "Names of each container in the template."),
            column("Images", "string", 0, "Images referenced by each container in the template."),
            column("Pod Labels", "string", 0, "The labels for the pod template.")};
  }
  json::Array cells(const json::Value& pt, TimePoint) const override {
    auto [names, images] = container_cells(pt["template"]["spec"]["containers"]);
    return {name_cell(pt), json::Value(names), json::Value(images),
            json::Value(format_labels(pt["template"]["metadata"]["labels"]))};
  }
};

}  // namespace

std::vector<PrinterColumn> default_created_at_columns() {
  return created_at_columns();
}
json::Array default_created_at_cells(const json::Value& object) {
  return created_at_cells(object);
}

const Strategy& event_strategy(bool events_api) {
  static const EventStrategy kCore(false);
  static const EventStrategy kEvents(true);
  return events_api ? kEvents : kCore;
}

const Strategy* core_strategy(std::string_view kind) {
  static const ServiceStrategy kService;
  static const NamespaceStrategy kNamespace;
  static const ConfigMapStrategy kConfigMap;
  static const SecretStrategy kSecret;
  static const ServiceAccountStrategy kServiceAccount;
  static const NodeStrategy kNode;
  static const EndpointsStrategy kEndpoints;
  static const PersistentVolumeStrategy kPv;
  static const PersistentVolumeClaimStrategy kPvc;
  static const LimitRangeStrategy kLimitRange;
  static const ResourceQuotaStrategy kQuota;
  static const ReplicationControllerStrategy kRc;
  static const PodTemplateStrategy kPodTemplate;
  if (kind == "Pod") {
    return &pod_strategy();
  }
  if (kind == "Event") {
    return &event_strategy(false);
  }
  if (kind == "Service") {
    return &kService;
  }
  if (kind == "Namespace") {
    return &kNamespace;
  }
  if (kind == "ConfigMap") {
    return &kConfigMap;
  }
  if (kind == "Secret") {
    return &kSecret;
  }
  if (kind == "ServiceAccount") {
    return &kServiceAccount;
  }
  if (kind == "Node") {
    return &kNode;
  }
  if (kind == "Endpoints") {
    return &kEndpoints;
  }
  if (kind == "PersistentVolume") {
    return &kPv;
  }
  if (kind == "PersistentVolumeClaim") {
    return &kPvc;
  }
  if (kind == "LimitRange") {
    return &kLimitRange;
  }
  if (kind == "ResourceQuota") {
    return &kQuota;
  }
  if (kind == "ReplicationController") {
    return &kRc;
  }
  if (kind == "PodTemplate") {
    return &kPodTemplate;
  }
  return nullptr;
}

}  // namespace skiff::registry::strategies
