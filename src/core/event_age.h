#pragma once
// How old events are when a stage reaches them: the relay handing them to the bus, the projector
// committing them. Measured from each event's occurred_at (the command's time), on the wall clock
// as occurred_at is; across hosts that includes the difference of their clocks.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "domain/time_format.h"
#include "ports/metrics.h"

namespace ordinal {

// `occurred_at(item)` gives an item's occurred_at; each age goes to `ages`, in seconds.
template <class Range, class OccurredAt>
void observe_event_ages(Histogram& ages, const Range& items, OccurredAt occurred_at) {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    for (const auto& item : items) {
        if (const auto at = parse_rfc3339_ms(occurred_at(item)))
            ages.observe(static_cast<double>(std::max<std::int64_t>(0, now - *at)) / 1000.0);
    }
}

}  // namespace ordinal
