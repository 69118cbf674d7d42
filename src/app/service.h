#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "app/settings.h"
#include "domain/expected.h"

namespace ordinal {

// The composition root: builds the adapters named by the settings, wires them into the core
// and starts the roles this process runs. The one place that knows every concrete type.
class Service {
  public:
    // Opens and migrates the stores, starts the relay/projector/HTTP server as the roles say.
    // Errors are human-readable and safe to print.
    static Expected<std::unique_ptr<Service>, std::string> start(const Settings& settings);
    virtual ~Service() = default;
    virtual std::uint16_t port() const = 0;  // 0 when this process runs no api role
    virtual void stop() = 0;                 // idempotent; also done by the destructor
};

// `ordinal migrate`: applies schema migrations to the configured stores and returns.
Expected<void, std::string> migrate_stores(const Settings& settings);

}  // namespace ordinal
