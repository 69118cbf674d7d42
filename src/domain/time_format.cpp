// The calendar arithmetic is C++20 <chrono>'s (year_month_day, hh_mm_ss); only the text is written
// and read here, since GCC 12's library has neither std::format nor std::chrono::parse.
#include "domain/time_format.h"

#include <chrono>
#include <cstdio>

namespace ordinal {

std::string format_rfc3339_ms(std::int64_t unix_ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> at{milliseconds{unix_ms}};
    const sys_days day = floor<days>(at);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> time{at - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(date.year()),
                  unsigned(date.month()), unsigned(date.day()), int(time.hours().count()),
                  int(time.minutes().count()), int(time.seconds().count()),
                  int(time.subseconds().count()));
    return buf;
}

namespace {

// Digits at text[at, at + n) as a number, or -1.
int digits(std::string_view text, std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (text[i] < '0' || text[i] > '9') return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) {
    using namespace std::chrono;
    // YYYY-MM-DDTHH:MM:SS.mmmZ
    if (text.size() != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' || text[19] != '.' || text[23] != 'Z')
        return std::nullopt;
    const int y = digits(text, 0, 4), m = digits(text, 5, 2), d = digits(text, 8, 2),
              h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2),
              ms = digits(text, 20, 3);
    if (y < 0 || m < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 ||
        ms < 0)
        return std::nullopt;
    const year_month_day date{year{y}, month{unsigned(m)}, day{unsigned(d)}};
    if (!date.ok()) return std::nullopt;  // also a 30th of February
    const sys_time<milliseconds> at =
        sys_days{date} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
    return at.time_since_epoch().count();
}

}  // namespace ordinal
