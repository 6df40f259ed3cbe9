// SPDX-License-Identifier: Apache-2.0
#pragma once

// NamespaceFinalizer (private to src/apiserver): finishes the deletion of Terminating namespaces,
// the part of upstream's namespace controller that `kubectl delete namespace` waits for: it deletes
// every namespaced object in the namespace (objects with finalizers or graceful deletion are only
// marked and are waited for), then removes the `kubernetes` finalizer through /finalize, which lets
// the registry delete the namespace. It runs inside the API server until the controllers module
// (which will talk to the API through the client) takes it over.
//
// Executor: run() on any executor; cancel it (terminal) to stop. Errors are logged and retried.

#include <chrono>

#include <boost/asio/awaitable.hpp>

namespace skiff::registry {
class Registry;
}

namespace skiff::apiserver {

class NamespaceFinalizer {
 public:
  /// `retry` is how often a namespace whose content is not gone yet is looked at again.
  explicit NamespaceFinalizer(registry::Registry& registry,
                              std::chrono::milliseconds retry = std::chrono::seconds(2));

  boost::asio::awaitable<void> run();

 private:
  /// One pass over every Terminating namespace; true when some are still waiting.
  boost::asio::awaitable<bool> sweep();

  registry::Registry& registry_;
  std::chrono::milliseconds retry_;
};

}  // namespace skiff::apiserver
