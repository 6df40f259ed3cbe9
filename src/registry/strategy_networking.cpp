// SPDX-License-Identifier: Apache-2.0
// networking.k8s.io/v1: Ingress, IngressClass, NetworkPolicy.

#include <utility>

#include <fmt/format.h>

#include "skiff/api/labels.hpp"

#include "printing.hpp"
#include "strategy_util.hpp"

namespace skiff::registry::strategies {

namespace {

bool looks_like_ip(std::string_view host) {
  if (host.find(':') != std::string_view::npos) {
    return true;
  }
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

Causes validate_backend(const json::Value& backend, const std::string& path) {
  Causes out;
  bool resource = !backend["resource"].is_null();
  bool service = !backend["service"].is_null();
  if (resource && service) {
    out.push_back(api::field_invalid(path, "", "cannot set both resource and service backends"));
    return out;
  }
  if (resource) {
    const json::Value& r = backend["resource"];
    std::string rp = api::field_child(path, "resource");
    if (r.string_or("kind").empty()) {
      out.push_back(api::field_required(api::field_child(rp, "kind")));
    }
    if (r.string_or("name").empty()) {
      out.push_back(api::field_required(api::field_child(rp, "name")));
    }
  } else if (service) {
    const json::Value& s = backend["service"];
    std::string name = str(s, "name");
    std::string sp = api::field_child(path, "service");
    if (name.empty()) {
      out.push_back(api::field_required(api::field_child(sp, "name")));
    } else {
      for (const auto& msg : api::name_is_dns1035_label(name, false)) {
        out.push_back(api::field_invalid(api::field_child(sp, "name"), name, msg));
      }
    }
    std::string port_name = str(s["port"], "name");
    std::int64_t number = num(s["port"], "number");
    if (!port_name.empty() && number != 0) {
      out.push_back(api::field_invalid(path, "", "cannot set both port name & port number"));
    } else if (!port_name.empty()) {
      for (const auto& msg : port_name_errors(port_name)) {
        out.push_back(api::field_invalid(sp + ".port.name", port_name, msg));
      }
    } else if (number != 0) {
      for (const auto& msg : port_num_errors(number)) {
        out.push_back(api::field_invalid(sp + ".port.number", number, msg));
      }
    } else {
      out.push_back(api::field_required(path, "port name or number is required"));
    }
  } else {
    out.push_back(api::field_invalid(path, "", "resource or service backend is required"));
  }
  return out;
}

Causes validate_http_path(const json::Value& p, const std::string& path) {
  Causes out;
  std::string type = str(p, "pathType");
  std::string value = str(p, "path");
  if (p["pathType"].is_null()) {
    out.push_back(
        api::field_required(api::field_child(path, "pathType"), "pathType must be specified"));
    return out;
  }
  std::string vp = api::field_child(path, "path");
  if (type == "Exact" || type == "Prefix") {
    if (value.empty() || value.front() != '/') {
      out.push_back(api::field_invalid(vp, value, "must be an absolute path"));
    }
    if (!value.empty()) {
      for (const char* seq : {"//", "/./", "/../", "%2f", "%2F"}) {
        if (value.find(seq) != std::string::npos) {
          out.push_back(api::field_invalid(vp, value, fmt::format("must not contain '{}'", seq)));
        }
      }
      for (std::string suffix : {"/..", "/."}) {
        if (value.size() >= suffix.size() &&
            value.compare(value.size() - suffix.size(), suffix.size(), suffix) == 0) {
          out.push_back(api::field_invalid(vp, value, fmt::format("cannot end with '{}'", suffix)));
        }
      }
    }
  } else if (type == "ImplementationSpecific") {
    if (!value.empty() && value.front() != '/') {
      out.push_back(api::field_invalid(vp, value, "must be an absolute path"));
    }
  } else {
    out.push_back(api::field_not_supported(api::field_child(path, "pathType"), type,
                                           {"Exact", "ImplementationSpecific", "Prefix"}));
  }
  append(out, validate_backend(p["backend"], api::field_child(path, "backend")));
  return out;
}

class IngressStrategy final : public Strategy {
public:
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& ing) const override {
    Causes out;
    const json::Value& spec = ing["spec"];
    const json::Array& rules = arr(spec, "rules");
    if (rules.empty() && spec["defaultBackend"].is_null()) {
      out.push_back(
          api::field_invalid_rendered("spec", "[]networking.IngressRule(nil)",
                                      "either `defaultBackend` or `rules` must be specified"));
    }
    if (!spec["defaultBackend"].is_null()) {
      append(out, validate_backend(spec["defaultBackend"], "spec.defaultBackend"));
    }
    for (std::size_t i = 0; i < rules.size(); ++i) {
      std::string rp = api::field_index("spec.rules", i);
      std::string host = str(rules[i], "host");
      if (!host.empty()) {
        if (looks_like_ip(host)) {
          out.push_back(api::field_invalid(api::field_child(rp, "host"), host,
                                           "must be a DNS name, not an IP address"));
        }
        std::string check = host;
        if (host.rfind("*.", 0) == 0) {
          check = host.substr(2);
        } else if (host.find('*') != std::string::npos) {
          out.push_back(api::field_invalid(
              api::field_child(rp, "host"), host,
              api::regex_error(
                  "a wildcard DNS-1123 subdomain must start with '*.', followed by a "
                  "valid DNS subdomain, which must consist of lower case alphanumeric "
                  "characters, '-' or '.' and end with an alphanumeric character",
                  "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                  {"*.example.com"})));
          check.clear();
        }
        if (!check.empty()) {
          for (const auto& msg : api::is_dns1123_subdomain(check)) {
            out.push_back(api::field_invalid(api::field_child(rp, "host"), host, msg));
          }
        }
      }
      const json::Value& http = rules[i]["http"];
      if (!http.is_null()) {
        std::string hp = api::field_child(rp, "http");
        const json::Array& paths = arr(http, "paths");
        if (paths.empty()) {
          out.push_back(api::field_required(api::field_child(hp, "paths")));
        }
        for (std::size_t j = 0; j < paths.size(); ++j) {
          append(out,
                 validate_http_path(paths[j], api::field_index(api::field_child(hp, "paths"), j)));
        }
      }
    }
    const json::Array& tls = arr(spec, "tls");
    for (std::size_t i = 0; i < tls.size(); ++i) {
      const json::Array& hosts = arr(tls[i], "hosts");
      for (std::size_t j = 0; j < hosts.size(); ++j) {
        std::string h = hosts[j].is_string() ? hosts[j].as_string() : "";
        std::string check = h.rfind("*.", 0) == 0 ? h.substr(2) : h;
        for (const auto& msg : api::is_dns1123_subdomain(check)) {
          out.push_back(api::field_invalid(
              api::field_index(api::field_child(api::field_index("spec.tls", i), "hosts"), j), h,
              msg));
        }
      }
    }
    if (spec["ingressClassName"].is_string()) {
      std::string name = str(spec, "ingressClassName");
      for (const auto& msg : api::name_is_dns_subdomain(name, false)) {
        out.push_back(api::field_invalid("spec.ingressClassName", name, msg));
      }
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Class", "string", 0,
                   "The name of the IngressClass resource that should be used "
                   "for additional configuration"),
            column("Hosts", "string", 0,
                   "Hosts that incoming requests are matched against before "
                   "the ingress rule"),
            column("Address", "string", 0,
                   "Address is a list containing ingress points for the "
                   "load-balancer"),
            column("Ports", "string", 0, "Ports of TLS configurations that open"),
            age_column()};
  }
  json::Array cells(const json::Value& ing, TimePoint now) const override {
    const json::Value& spec = ing["spec"];
    std::string cls =
        spec["ingressClassName"].is_string() ? str(spec, "ingressClassName") : "<none>";
    const json::Array& rules = arr(spec, "rules");
    std::vector<std::string> list;
    bool more = false;
    for (const json::Value& r : rules) {
      if (list.size() == 3) {
        more = true;
      }
      if (!more && !r.string_or("host").empty()) {
        list.push_back(str(r, "host"));
      }
    }
    std::string hosts;
    for (const auto& h : list) {
      hosts += (hosts.empty() ? "" : ",") + h;
    }
    if (list.empty()) {
      hosts = "*";
    } else if (more) {
      hosts = fmt::format("{} + {} more...", hosts, rules.size() - 3);
    }
    return {name_cell(ing),
            json::Value(cls),
            json::Value(hosts),
            json::Value(load_balancer_text(ing["status"]["loadBalancer"])),
            json::Value(spec["tls"].size() > 0 ? "80, 443" : "80"),
            age_cell(ing, now)};
  }
};

class IngressClassStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& ic) const override {
    if (json::Value* p = ic.get_path({"spec", "parameters"}); p != nullptr && p->is_object()) {
      set_default(*p, "scope", "Cluster");
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& ic) const override {
    Causes out;
    std::string controller = str(ic["spec"], "controller");
    if (controller.empty()) {
      out.push_back(api::field_required("spec.controller"));
    } else if (controller.size() > 250) {
      out.push_back(api::field_too_long("spec.controller", 250));
    } else {
      // IsDomainPrefixedPath: "<DNS subdomain>/<path>".
      auto slash = controller.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == controller.size()) {
        out.push_back(
            api::field_invalid("spec.controller", controller,
                               "must be a domain-prefixed path (such as \"acme.io/foo\")"));
      } else {
        for (const auto& msg : api::is_dns1123_subdomain(controller.substr(0, slash))) {
          out.push_back(api::field_invalid("spec.controller", controller.substr(0, slash), msg));
        }
      }
    }
    const json::Value& p = ic["spec"]["parameters"];
    if (p.is_object()) {
      if (p.string_or("kind").empty()) {
        out.push_back(api::field_required("spec.parameters.kind"));
      }
      if (p.string_or("name").empty()) {
        out.push_back(api::field_required("spec.parameters.name"));
      }
      std::string scope = str(p, "scope");
      if (scope != "Cluster" && scope != "Namespace") {
        out.push_back(
            api::field_not_supported("spec.parameters.scope", scope, {"Cluster", "Namespace"}));
      } else if (scope == "Namespace" && p.string_or("namespace").empty()) {
        out.push_back(api::field_required("spec.parameters.namespace",
                                          "`parameters.scope` is set to 'Namespace'"));
      } else if (scope == "Cluster" && !p.string_or("namespace").empty()) {
        out.push_back(api::field_forbidden("spec.parameters.namespace",
                                           "`parameters.scope` is set to 'Cluster'"));
      }
    }
    return out;
  }
  Causes validate_update(const json::Value& ic, const json::Value& old) const override {
    Causes out = validate(ic);
    append(out, api::validate_immutable_field(ic["spec"]["controller"], old["spec"]["controller"],
                                              "spec.controller"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {
        name_column(),
        column("Controller", "string", 0, "Controller that is responsible for handling this class"),
        column("Parameters", "string", 0, "A reference to a resource with additional parameters"),
        age_column()};
  }
  json::Array cells(const json::Value& ic, TimePoint now) const override {
    const json::Value& p = ic["spec"]["parameters"];
    std::string params = "<none>";
    if (p.is_object()) {
      params = str(p, "kind");
      if (p["apiGroup"].is_string()) {
        params += "." + str(p, "apiGroup");
      }
      params += "/" + str(p, "name");
    }
    return {name_cell(ic), json::Value(str(ic["spec"], "controller")), json::Value(params),
            age_cell(ic, now)};
  }
};

class NetworkPolicyStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& np) const override {
    json::Value* spec = np.get("spec");
    if (spec == nullptr || !spec->is_object()) {
      return;
    }
    for (const char* dir : {"ingress", "egress"}) {
      if (json::Value* rules = spec->get(dir); rules != nullptr && rules->is_array()) {
        for (json::Value& rule : rules->as_array()) {
          if (json::Value* ports = rule.get("ports"); ports != nullptr && ports->is_array()) {
            for (json::Value& p : ports->as_array()) {
              set_default(p, "protocol", "TCP");
            }
          }
        }
      }
    }
    if (std::as_const(*spec)["policyTypes"].size() == 0) {
      json::Array types{json::Value("Ingress")};
      if (std::as_const(*spec)["egress"].size() > 0) {
        types.emplace_back("Egress");
      }
      (*spec)["policyTypes"] = std::move(types);
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& np) const override {
    Causes out;
    const json::Value& spec = np["spec"];
    append(out, api::validate_label_selector(spec["podSelector"], "spec.podSelector"));
    for (const char* dir : {"ingress", "egress"}) {
      const json::Array& rules = arr(spec, dir);
      for (std::size_t i = 0; i < rules.size(); ++i) {
        std::string rp = api::field_index(api::field_child("spec", dir), i);
        const json::Array& ports = arr(rules[i], "ports");
        for (std::size_t j = 0; j < ports.size(); ++j) {
          std::string pp = api::field_index(api::field_child(rp, "ports"), j);
          std::string proto = str(ports[j], "protocol");
          if (!proto.empty() && proto != "TCP" && proto != "UDP" && proto != "SCTP") {
            out.push_back(api::field_not_supported(api::field_child(pp, "protocol"), proto,
                                                   {"SCTP", "TCP", "UDP"}));
          }
          const json::Value& port = ports[j]["port"];
          if (!port.is_null()) {
            append(out, validate_port_num_or_name(port, api::field_child(pp, "port")));
          }
        }
        const char* peers = std::string_view(dir) == "ingress" ? "from" : "to";
        const json::Array& list = arr(rules[i], peers);
        for (std::size_t j = 0; j < list.size(); ++j) {
          std::string pp = api::field_index(api::field_child(rp, peers), j);
          int n = 0;
          for (const char* k : {"podSelector", "namespaceSelector", "ipBlock"}) {
            if (!list[j][k].is_null()) {
              ++n;
            }
          }
          if (n == 0) {
            out.push_back(api::field_required(pp, "must specify a peer"));
          } else if (!list[j]["ipBlock"].is_null() && n > 1) {
            out.push_back(
                api::field_forbidden(pp, "may not specify both ipBlock and another peer"));
          }
          if (list[j]["ipBlock"].is_object() && list[j]["ipBlock"].string_or("cidr").empty()) {
            out.push_back(api::field_required(pp + ".ipBlock.cidr"));
          }
        }
      }
    }
    const json::Array& types = arr(spec, "policyTypes");
    for (std::size_t i = 0; i < types.size(); ++i) {
      std::string t = types[i].is_string() ? types[i].as_string() : "";
      if (t != "Ingress" && t != "Egress") {
        out.push_back(api::field_not_supported(api::field_index("spec.policyTypes", i), t,
                                               {"Ingress", "Egress", "Ingress,Egress"}));
      }
    }
    if (types.size() > 2) {
      out.push_back(api::field_invalid("spec.policyTypes", json::Value(types),
                                       "may not have more than 2 policyTypes"));
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Pod-Selector", "string", 0, "The pods the policy applies to."),
            age_column()};
  }
  json::Array cells(const json::Value& np, TimePoint now) const override {
    const json::Value& sel = np["spec"]["podSelector"];
    return {name_cell(np),
            json::Value(format_label_selector(sel.is_null() ? json::Value::object() : sel)),
            age_cell(np, now)};
  }
};

}  // namespace

const Strategy* networking_strategy(std::string_view kind) {
  static const IngressStrategy kIngress;
  static const IngressClassStrategy kIngressClass;
  static const NetworkPolicyStrategy kNetworkPolicy;
  if (kind == "Ingress") {
    return &kIngress;
  }
  if (kind == "IngressClass") {
    return &kIngressClass;
  }
  if (kind == "NetworkPolicy") {
    return &kNetworkPolicy;
  }
  return nullptr;
}

}  // namespace skiff::registry::strategies
