#pragma once
// The start-up check that the topic exists. Ordinal never creates its topic (its partition count
// and replication are the operator's decision, see docs/profiles.md), so a relay or projector
// pointed at a topic the brokers do not know stops at once with an error that names it, instead
// of retrying forever (relay) or waiting for an assignment that never comes (projector).
#include <chrono>
#include <string>

#include "adapters/kafka/kafka_bus.h"
#include "domain/expected.h"

namespace ordinal::kafka {

// Fails only when a broker answered and does not know the topic. Brokers that do not answer
// within `within` pass: the bus connects lazily, and readiness reports them.
Expected<void, std::string> check_topic_exists(const KafkaAddress& address,
                                               std::chrono::milliseconds within);

}  // namespace ordinal::kafka
