// SPDX-License-Identifier: Apache-2.0
#include "kube_api.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "skiff/apiserver/server.hpp"
#include "skiff/base/log.hpp"
#include "skiff/kv/store.hpp"
#include "skiff/pki/jwt.hpp"
#include "skiff/pki/kubeconfig.hpp"
#include "skiff/pki/server_pki.hpp"
#include "skiff/registry/registry.hpp"
#include "version.hpp"

namespace skiff::cli {

namespace {

constexpr std::string_view kComponent = "server";

// Runs one coroutine to completion on a private io_context (start-up work before serving).
template <class T>
T run_now(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) {
      out.emplace(std::move(v));
    }
  });
  io.run();
  if (error) {
    // Start-up work reports failures as values; an exception escaping it (seen once: a cancelled
    // store write on a full disk) becomes one too instead of aborting the process.
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return T(errors::internal(fmt::format("start-up task failed: {}", e.what())));
    }
  }
  if (!out) {
    return T(errors::internal("start-up task did not complete"));
  }
  return std::move(*out);
}

// A start-up write the datastore refused: a full disk is named as such (the store's own text is
// etcd's "database space exceeded", which says nothing to someone reading a unit's log).
Error startup_write_error(Error e, std::string_view what, const std::string& data_dir) {
  if (e.message.find(kv::kErrNoSpace) != std::string::npos) {
    e.message = fmt::format("cannot {}: the disk is full ({}); free space under {} and start again",
                            what, e.message, data_dir);
  } else {
    e.message = fmt::format("cannot {}: {}", what, e.message);
  }
  return e;
}

// The first address of an IPv4 CIDR: the `kubernetes` service's ClusterIP.
std::string first_service_ip(const std::string& cidr) {
  std::string base = cidr.substr(0, cidr.find('/'));
  auto last = base.rfind('.');
  int octet = std::atoi(base.substr(last + 1).c_str());
  return base.substr(0, last + 1) + std::to_string(octet + 1);
}

// The address other machines reach this server at: the bound address, or the first non-loopback
// IPv4 address of the host (as kube-apiserver's advertise address), else loopback.
std::string advertise_address(const std::string& bind) {
  if (bind != "0.0.0.0" && bind != "::") {
    return bind;
  }
  std::string found = "127.0.0.1";
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return found;
  }
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) {
      continue;
    }
    auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) {
      continue;
    }
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    found = text;
    break;
  }
  ::freeifaddrs(list);
  return found;
}

registry::ResourceTypePtr core_type(registry::Catalog& catalog, std::string_view plural) {
  auto snap = catalog.snapshot();
  for (const auto& t : snap->types()) {
    if (t->gvk.group.empty() && t->plural == plural) {
      return t;
    }
  }
  return nullptr;
}

// The `kubernetes` Service in `default` (the API's in-cluster address, the first service IP) and
// its Endpoints (this server). Upstream's apiserver keeps both; the Endpoints follow the port.
boost::asio::awaitable<Result<void>> ensure_kubernetes_service(registry::Registry& reg,
                                                               std::string service_ip,
                                                               std::string address, int port) {
  registry::WriteOptions wo;
  wo.field_manager = "skiff";
  json::Value svc = json::Object{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", json::Object{{"name", "kubernetes"},
                                {"namespace", "default"},
                                {"labels", json::Object{{"component", "apiserver"},
                                                        {"provider", "kubernetes"}}}}},
      {"spec", json::Object{{"type", "ClusterIP"},
                            {"clusterIP", service_ip},
                            {"ports", json::Array{json::Object{{"name", "https"},
                                                               {"port", 443},
                                                               {"protocol", "TCP"},
                                                               {"targetPort", 6443}}}}}}};
  auto services = core_type(reg.catalog(), "services");
  auto created = co_await reg.create(services, "default", std::move(svc), wo);
  if (!created && created.error().reason != Reason::kAlreadyExists) {
    co_return created.error();
  }
  json::Value subsets = json::Array{json::Object{
      {"addresses", json::Array{json::Object{{"ip", address}}}},
      {"ports", json::Array{json::Object{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}}}}};
  json::Value eps = json::Object{
      {"apiVersion", "v1"},
      {"kind", "Endpoints"},
      {"metadata", json::Object{{"name", "kubernetes"}, {"namespace", "default"}}},
      {"subsets", subsets}};
  auto endpoints = core_type(reg.catalog(), "endpoints");
  auto made = co_await reg.create(endpoints, "default", std::move(eps), wo);
  if (made) {
    co_return Result<void>{};
  }
  if (made.error().reason != Reason::kAlreadyExists) {
    co_return made.error();
  }
  registry::PatchOptions merge;
  merge.type = registry::PatchType::kMerge;
  json::Value patch = json::Object{{"subsets", subsets}};
  auto patched = co_await reg.patch(endpoints, "default", "kubernetes", "", json::serialize(patch),
                                    merge, wo);
  if (!patched) {
    co_return patched.error();
  }
  co_return Result<void>{};
}

}  // namespace

struct KubeApi::Impl {
  registry::Catalog catalog;
  std::unique_ptr<registry::Registry> registry;
  std::unique_ptr<apiserver::Server> server;
  std::shared_ptr<pki::JwtKey> jwt;
};

KubeApi::KubeApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KubeApi::~KubeApi() { shutdown(); }

void KubeApi::shutdown() {
  if (impl_->server) {
    impl_->server->shutdown();
    impl_->server.reset();
  }
  impl_->registry.reset();
}

Result<std::unique_ptr<KubeApi>> KubeApi::start(const ServerConfig& config, kv::Store& store) {
  auto impl = std::make_unique<Impl>();
  registry::RegistryOptions ro;
  ro.service_cidr = config.service_cidr;
  ro.node_port_min = config.node_port_min;
  ro.node_port_max = config.node_port_max;
  impl->registry = std::make_unique<registry::Registry>(store, impl->catalog, ro);
  if (auto loaded = impl->registry->load_custom_resources(); !loaded) {
    return loaded.error();
  }
  if (auto ns = run_now(impl->registry->ensure_system_namespaces()); !ns) {
    return startup_write_error(ns.error(), "create the system namespaces", config.data_dir);
  }

  pki::ServerPkiOptions po;
  po.tls_sans = config.tls_sans;
  if (config.bind_address != "0.0.0.0" && config.bind_address != "::") {
    po.node_addresses.push_back(config.bind_address);
  }
  po.service_ip = first_service_ip(config.service_cidr);
  auto tls = pki::ensure_server_pki(config.data_dir, po);
  if (!tls) {
    return tls.error();
  }
  auto jwt = pki::JwtKey::load(tls->service_key_pem);
  if (!jwt) {
    return jwt.error();
  }
  impl->jwt = std::make_shared<pki::JwtKey>(std::move(*jwt));

  apiserver::ServerOptions so;
  so.bind_address = config.bind_address;
  so.port = config.https_port;
  so.cert_chain_pem = tls->serving.cert_pem;
  so.private_key_pem = tls->serving.key_pem;
  so.client_ca_pem = tls->client_ca.cert_pem;
  so.git_version = "v1.32.5+skiff";
  so.git_commit = std::string(kGitCommit);
  std::shared_ptr<pki::JwtKey> key = impl->jwt;
  so.sign_token = [key](const json::Value& claims) -> Result<std::string> {
    return key->sign(json::serialize(claims));
  };
  so.verify_token = [key](std::string_view token) -> Result<json::Value> {
    auto claims = key->verify(token);
    if (!claims) {
      return claims.error();
    }
    return json::parse(*claims);
  };
  auto server = apiserver::Server::start(*impl->registry, std::move(so));
  if (!server) {
    return server.error();
  }
  impl->server = std::move(*server);
  if (auto svc = run_now(ensure_kubernetes_service(*impl->registry, po.service_ip,
                                                   advertise_address(config.bind_address),
                                                   impl->server->port()));
      !svc) {
    return startup_write_error(svc.error(), "write the kubernetes Service", config.data_dir);
  }

  // The URL clients use: loopback unless the API is bound to one specific address.
  std::string host = config.bind_address == "0.0.0.0" || config.bind_address == "::"
                         ? std::string("127.0.0.1")
                         : config.bind_address;
  if (host.find(':') != std::string::npos) {
    host = "[" + host + "]";
  }
  std::string url = fmt::format("https://{}:{}", host, impl->server->port());
  if (auto written = pki::write_kubeconfig(config.write_kubeconfig, config.write_kubeconfig_mode,
                                           url, tls->server_ca.cert_pem, tls->admin.cert_pem,
                                           tls->admin.key_pem);
      !written) {
    return written.error();
  }
  log::info(kComponent, "wrote kubeconfig {}", config.write_kubeconfig);
  log::info(kComponent, "Kubernetes API listening on {}", url);
  return std::unique_ptr<KubeApi>(new KubeApi(std::move(impl)));
}

}  // namespace skiff::cli
