#pragma once
// What the operations console shows of one stream and of one consistency token: the write side's
// events next to the read side's version, so "where is order X, and why isn't it visible yet?"
// has an answer on one page.
#include <cstdint>
#include <vector>

#include "domain/stream.h"
#include "ports/write_store.h"

namespace ordinal {

struct StreamView {
    StreamKey stream;
    std::int64_t write_version = 0;      // the last committed version (0: no such stream)
    std::int64_t read_version = 0;       // the last version the read model applied
    std::vector<StreamLogEntry> events;  // version order; the newest when cut
};

// A read with the token passes now when every stream it names is applied up to its version.
struct TokenCheck {
    struct Stream {
        StreamKey stream;
        std::int64_t wanted = 0;
        std::int64_t read_version = 0;
    };
    std::vector<Stream> streams;
    bool passes = false;
};

}  // namespace ordinal
